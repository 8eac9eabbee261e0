"""MobileNet V1 (Howard et al., 2017) and V2 (Sandler et al., 2018).

**Depthwise separable convolution (V1).** A standard k x k convolution from M to N channels
on an F x F map costs ``k² M N F²`` multiply-adds. V1 factors it into a depthwise k x k
convolution (one filter per input channel, ``groups = M``) and a pointwise 1 x 1 one:

    cost = k² M F²  +  M N F²        ratio to the full conv = 1/N + 1/k²   (≈ 1/8 for k = 3)

**Inverted residual with linear bottleneck (V2).** A block widens a thin input by the expansion
factor t with a 1 x 1 conv, filters it depthwise, and projects it back to a thin output with a
1 x 1 conv *without* a non-linearity (ReLU on a low-dimensional manifold destroys information):

    h = ReLU6(BN(W_expand x))          (t·c_in channels; skipped when t = 1)
    h = ReLU6(BN(DW_3x3,s(h)))
    y = BN(W_project h)                (linear bottleneck)
    y = x + y   when s = 1 and c_in = c_out     (the residual joins the thin ends)

Both take a width multiplier α (every channel count times α); V2 rounds channels to a
multiple of 8 as torchvision's reference does. ``stem_stride`` and ``in_channels`` adapt the
ImageNet network to 28 x 28 grey images (stride 1 in the stem keeps a 2 x 2 final map).
"""

from __future__ import annotations

import torch
from torch import nn


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to the nearest multiple of ``divisor``, never more than 10% down
    (the rule of the TensorFlow reference, kept by torchvision)."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def conv_bn_act(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, groups: int = 1,
                activation: type[nn.Module] | None = nn.ReLU6) -> nn.Sequential:
    """k x k convolution (no bias: BN's shift replaces it) -> BatchNorm -> activation."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(c_out)]
    if activation is not None:
        layers.append(activation(inplace=True))
    return nn.Sequential(*layers)


# ----------------------------------------------------------------------------- V1

# (output channels, stride) of the 13 depthwise separable layers (paper, Table 1)
V1_LAYERS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
             (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def depthwise_separable(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    """3x3 depthwise conv (groups = c_in) -> BN -> ReLU, then 1x1 pointwise -> BN -> ReLU."""
    return nn.Sequential(conv_bn_act(c_in, c_in, 3, stride, groups=c_in, activation=nn.ReLU),
                         conv_bn_act(c_in, c_out, 1, activation=nn.ReLU))


class MobileNetV1(nn.Module):
    """Conv 3x3/2 (32) -> 13 depthwise separable layers -> global average pool -> FC."""

    def __init__(self, num_classes: int = 1000, width: float = 1.0, in_channels: int = 3,
                 stem_stride: int = 2, dropout: float = 0.0):
        super().__init__()
        scaled = lambda c: max(1, int(c * width))  # noqa: E731  (α·c, the paper's plain product)
        c = scaled(32)
        layers = [conv_bn_act(in_channels, c, 3, stem_stride, activation=nn.ReLU)]
        for c_out, stride in V1_LAYERS:
            layers.append(depthwise_separable(c, scaled(c_out), stride))
            c = scaled(c_out)
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(c, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


# ----------------------------------------------------------------------------- V2

# (expansion t, output channels c, repeats n, first stride s) of the bottleneck stages (Table 2)
V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
             (6, 320, 1, 1))


class InvertedResidual(nn.Module):
    """Expand (1x1, ReLU6) -> depthwise 3x3 (ReLU6) -> project (1x1, linear) [+ x]."""

    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int):
        super().__init__()
        hidden = int(round(c_in * expansion))
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(conv_bn_act(c_in, hidden, 1))
        layers += [conv_bn_act(hidden, hidden, 3, stride, groups=hidden),
                   conv_bn_act(hidden, c_out, 1, activation=None)]  # linear bottleneck: no ReLU
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV2(nn.Module):
    """Conv 3x3/2 (32) -> 17 inverted residual blocks -> 1x1 conv (1280) -> pool -> dropout -> FC."""

    def __init__(self, num_classes: int = 1000, width: float = 1.0, in_channels: int = 3,
                 stem_stride: int = 2, dropout: float = 0.2, round_nearest: int = 8):
        super().__init__()
        c = make_divisible(32 * width, round_nearest)
        last = make_divisible(1280 * max(1.0, width), round_nearest)  # the head is never thinned
        layers: list[nn.Module] = [conv_bn_act(in_channels, c, 3, stem_stride)]
        for t, channels, repeats, stride in V2_STAGES:
            c_out = make_divisible(channels * width, round_nearest)
            for i in range(repeats):
                layers.append(InvertedResidual(c, c_out, stride if i == 0 else 1, t))
                c = c_out
        layers.append(conv_bn_act(c, last, 1))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(last, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))
