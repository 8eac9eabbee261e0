"""int8 weights per tensor against per channel, on a network with depthwise convolutions.

Symmetric int8 quantization of a weight tensor W with one scale s:

    s = max|W| / 127,    Ŵ = s · clamp(round(W / s), -127, 127)

Per tensor, one s serves every output channel; per channel, channel c gets s_c = max|W_c| / 127.
After BatchNorm is folded into the convolution (W_c ← W_c · γ_c / sqrt(σ²_c + ε), as the int8
graph does), a depthwise layer's channels can differ in range by orders of magnitude: one
channel with a large γ/σ sets the common scale, and the small channels round to a few levels
or to zero. A depthwise channel has only 9 weights and no other input channel to average
the error with, so the damage goes straight to the output. The quality of Ŵ is measured as

    SQNR_c = 10 log10( ||W_c||² / ||W_c - Ŵ_c||² )   dB    (about 6 dB per bit of range used)

averaged over the output channels c: each channel is its own output feature, and a layer-wide
SQNR would be dominated by the largest channel, the one that quantizes well.

Static int8 of the whole network (FX graph mode, x86 kernels, activations per tensor,
calibrated on validation images) is the compress stage's ``static_int8``, built twice with
``weights`` per_tensor and per_channel; this module measures the weight error behind it.
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn


def folded_convolutions(model: nn.Module) -> list[tuple[str, str, torch.Tensor]]:
    """(name, kind, weight with the following BatchNorm folded in) of every convolution that
    a BatchNorm follows; kind is depthwise, pointwise (1x1) or full."""
    found = []
    for name, module in model.named_modules():
        children = list(module.children())
        for first, second in zip(children, children[1:]):
            if isinstance(first, nn.Conv2d) and isinstance(second, nn.BatchNorm2d):
                gain = second.weight.detach() / torch.sqrt(second.running_var + second.eps)
                weight = first.weight.detach() * gain.view(-1, 1, 1, 1)
                if first.groups == first.in_channels and first.groups > 1:
                    kind = "depthwise"
                elif first.kernel_size == (1, 1):
                    kind = "pointwise"
                else:
                    kind = "full"
                found.append((name, kind, weight))
    return found


def fake_int8(weight: torch.Tensor, scheme: str) -> torch.Tensor:
    """Ŵ: symmetric int8 round trip with one scale per tensor or per output channel."""
    flat = weight.reshape(weight.shape[0], -1)
    peak = flat.abs().amax() if scheme == "per_tensor" else flat.abs().amax(1, keepdim=True)
    scale = torch.clamp(peak / 127, min=1e-12)
    return (torch.clamp(torch.round(flat / scale), -127, 127) * scale).reshape(weight.shape)


def sqnr_db(weight: torch.Tensor, approximation: torch.Tensor) -> float:
    """Mean over output channels of each channel's SQNR in dB (capped at 100 dB: exact)."""
    signal = (weight.reshape(weight.shape[0], -1).double() ** 2).sum(1)
    error = ((weight - approximation).reshape(weight.shape[0], -1).double() ** 2).sum(1)
    ratio = signal.clamp(min=1e-30) / error.clamp(min=1e-30)
    return float((10 * torch.log10(ratio)).clamp(max=100.0).mean())


def weight_sqnr_table(model: nn.Module) -> pd.DataFrame:
    """Per folded convolution: kind, channels, spread of channel ranges (max / median of
    max|W_c|), and the weight SQNR per tensor and per channel."""
    rows = []
    for name, kind, weight in folded_convolutions(model):
        peaks = weight.reshape(weight.shape[0], -1).abs().amax(1)
        rows.append({
            "layer": name, "kind": kind, "channels": int(weight.shape[0]),
            "range_spread": float(peaks.max() / torch.clamp(peaks.median(), min=1e-12)),
            "sqnr_per_tensor_db": sqnr_db(weight, fake_int8(weight, "per_tensor")),
            "sqnr_per_channel_db": sqnr_db(weight, fake_int8(weight, "per_channel")),
        })
    return pd.DataFrame(rows)
