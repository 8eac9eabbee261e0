"""The augmentations of contrastive learning, written on tensors (one ``grid_sample`` per batch).

SimCLR (Chen et al. 2020, Section 3 and Figure 5) learns what two random views of one image
share, so the views decide what the encoder keeps: a random resized crop is the ingredient
that matters most, and colour distortion the second. On 28x28 grey images colour becomes
brightness and contrast, and small rotations, flips, elastic warps and pixel noise replace
blur. Every image of a batch draws its own parameters.

Geometry, in the normalised coordinates of ``affine_grid`` (the image spans [-1, 1]^2); an
output pixel p is read from the input at

    p_in = R(theta) S p + c + d(p)

    S = diag(f w, h),  w = sqrt(a r), h = sqrt(a / r)   crop of area a in [a_min, a_max],
                                                        aspect ratio r (log-uniform),
                                                        f = -1 with probability p_flip
    c ~ U([-(1 - w), 1 - w] x [-(1 - h), 1 - h])         the crop's centre, inside the image
    theta ~ U[-degrees, degrees]                         a small rotation
    d = alpha * upsample(N(0, 1)^{2 x g x g})            an elastic warp: smooth random
                                                         displacements (g x g knots)

then intensity: x' = clip(c (x - mean(x)) + mean(x) + b, 0, 1) with c ~ U[1 - k, 1 + k],
b ~ U[-k_b, k_b] (with probability p_jitter), and x' + sigma * N(0, 1) (with probability p_noise).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

DEFAULTS: dict[str, Any] = {
    "crop_scale": (0.35, 1.0),  # area of the crop, as a fraction of the image
    "crop_ratio": (0.75, 1.3333),  # aspect ratio w / h of the crop
    "degrees": 10.0,
    "flip": 0.5,
    "elastic_alpha": 0.0,  # displacement scale in normalised units (0.05 = 0.7 px); 0 = off
    "elastic_grid": 4,
    "elastic_p": 0.5,
    "contrast": 0.4,
    "brightness": 0.2,
    "jitter_p": 0.8,
    "noise_std": 0.05,
    "noise_p": 0.3,
}


def _uniform(n: int, low: float, high: float, device: torch.device) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, device=device)


def view_geometry(images: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
    """The sampling grid (N, H, W, 2) of one random view per image: crop, flip, rotation, warp."""
    n, _, height, width = images.shape
    device, dtype = images.device, images.dtype
    area = _uniform(n, *params["crop_scale"], device)
    log_ratio = _uniform(n, math.log(params["crop_ratio"][0]), math.log(params["crop_ratio"][1]), device)
    ratio = log_ratio.exp()
    w, h = (area * ratio).sqrt().clamp(max=1.0), (area / ratio).sqrt().clamp(max=1.0)
    flip = torch.where(torch.rand(n, device=device) < params["flip"], -1.0, 1.0)
    cx, cy = (2 * torch.rand(n, device=device) - 1) * (1 - w), (2 * torch.rand(n, device=device) - 1) * (1 - h)
    angle = _uniform(n, -1.0, 1.0, device) * math.radians(params["degrees"])
    cos, sin = torch.cos(angle), torch.sin(angle)
    # R(theta) @ diag(f w, h)
    theta = torch.stack([torch.stack([cos * flip * w, -sin * h, cx], 1),
                         torch.stack([sin * flip * w, cos * h, cy], 1)], 1).to(dtype)
    grid = F.affine_grid(theta, [n, 1, height, width], align_corners=False)
    if params["elastic_alpha"] > 0:
        knots = torch.randn(n, 2, params["elastic_grid"], params["elastic_grid"], device=device, dtype=dtype)
        field = F.interpolate(knots, size=(height, width), mode="bicubic", align_corners=True)
        on = (torch.rand(n, 1, 1, 1, device=device) < params["elastic_p"]).to(dtype)
        grid = grid + params["elastic_alpha"] * on * field.permute(0, 2, 3, 1)
    return grid


def intensity(images: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
    """Contrast and brightness jitter around each image's mean, then Gaussian pixel noise."""
    n, device = images.shape[0], images.device
    shape = (n, 1, 1, 1)
    jitter = (torch.rand(shape, device=device) < params["jitter_p"]).to(images.dtype)
    contrast = 1 + jitter * _uniform(n, -params["contrast"], params["contrast"], device).view(shape)
    brightness = jitter * _uniform(n, -params["brightness"], params["brightness"], device).view(shape)
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    out = (contrast * (images - mean) + mean + brightness).clamp(0, 1)
    noisy = (torch.rand(shape, device=device) < params["noise_p"]).to(images.dtype)
    return (out + noisy * params["noise_std"] * torch.randn_like(out)).clamp(0, 1)


def random_view(images: torch.Tensor, params: dict[str, Any] | None = None) -> torch.Tensor:
    """One random view of each image of (N, 1, H, W) in [0, 1]; ``params`` over DEFAULTS."""
    settings = {**DEFAULTS, **(params or {})}
    grid = view_geometry(images, settings)
    warped = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return intensity(warped, settings)


def two_views(images: torch.Tensor, params: dict[str, Any] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Two independent views of every image: the positive pair of contrastive learning."""
    return random_view(images, params), random_view(images, params)
