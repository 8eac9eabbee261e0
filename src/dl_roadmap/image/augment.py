"""Batch-level image augmentations and corruptions, done on tensors so they cost little."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(
    images: torch.Tensor, degrees: float = 10.0, translate: float = 0.1, scale: float = 0.1
) -> torch.Tensor:
    """Rotate by up to ``degrees``, shift by up to ``translate`` of the size, zoom by
    up to ``scale``, independently per image. ``images``: (N, C, H, W)."""
    n = images.shape[0]
    device = images.device
    angle = (torch.rand(n, device=device) * 2 - 1) * math.radians(degrees)
    zoom = 1 + (torch.rand(n, device=device) * 2 - 1) * scale
    shift = (torch.rand(n, 2, device=device) * 2 - 1) * translate * 2  # grid spans [-1, 1]
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")


def corrupt(images: torch.Tensor, kind: str | None, level: float) -> torch.Tensor:
    """Noise for denoising autoencoders: ``gaussian`` (std ``level``, clipped to [0, 1]),
    ``mask`` (each pixel zeroed with probability ``level``) or None."""
    if not kind or level <= 0:
        return images
    if kind == "gaussian":
        return (images + level * torch.randn_like(images)).clamp(0, 1)
    if kind == "mask":
        return images * (torch.rand_like(images) >= level).to(images.dtype)
    raise ValueError(f"denoising.kind: unknown corruption {kind!r}; use gaussian, mask or null")
