"""Receptive fields: how much of the image one unit of a layer can see.

Theoretical receptive field, layer by layer (kernel k_l, stride s_l; Araujo et al. 2019,
"Computing receptive fields of convolutional neural networks")::

    j_l = j_{l-1} * s_l                 jump: input pixels between neighbouring units
    r_l = r_{l-1} + (k_l - 1) * j_{l-1} receptive field side, r_0 = 1, j_0 = 1

Effective receptive field (Luo et al. 2016): the input pixels that actually move a unit,
|d y_centre / d x| averaged over images. It sits inside the theoretical square and is
roughly Gaussian, most of its weight near the centre.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


def spatial_layers(model: nn.Module) -> list[tuple[str, nn.Module, int, int]]:
    """(name, module, kernel, stride) of every convolution and pooling layer, in forward
    order (modules are registered in the order they run in both model families)."""
    found = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            found.append((name, module, module.kernel_size[0], module.stride[0]))
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            found.append((name, module, int(module.kernel_size), int(module.stride or module.kernel_size)))
        elif type(module).__name__ == "Subsample":  # LeNet's S2/S4: 2x2, stride 2
            found.append((name, module, 2, 2))
    return found


def theoretical_fields(layers: list[tuple[str, Any, int, int]]) -> list[dict[str, Any]]:
    """r_l and j_l for each layer, by the recursion above."""
    field, jump, rows = 1, 1, []
    for name, _, kernel, stride in layers:
        field += (kernel - 1) * jump
        jump *= stride
        rows.append({"layer": name, "kernel": kernel, "stride": stride, "receptive_field": field, "jump": jump})
    return rows


def effective_fields(model: nn.Module, images: torch.Tensor) -> dict[str, np.ndarray]:
    """Per layer, mean |d (sum over channels of the centre unit) / d image| over ``images``,
    normalised to a maximum of 1: (H, W) maps."""
    model = model.eval()
    layers = spatial_layers(model)
    outputs: dict[str, torch.Tensor] = {}
    hooks = [module.register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o))
             for name, module, _, _ in layers]
    maps = {}
    try:
        for name, _, _, _ in layers:
            x = images.clone().requires_grad_(True)
            model(x)
            out = outputs[name]
            centre = out[:, :, out.shape[2] // 2, out.shape[3] // 2].sum()
            (grad,) = torch.autograd.grad(centre, x)
            field = grad.abs().mean(dim=(0, 1)).numpy()
            maps[name] = field / max(float(field.max()), 1e-12)
    finally:
        for hook in hooks:
            hook.remove()
    return maps
