"""An affNIST-style test set made from MNIST test digits (the paper's Section 5.2).

affNIST (Tieleman 2013) puts each MNIST digit through a random affine transformation:
rotation up to 20 degrees, shearing, scaling between 0.8 and 1.2, and translation, on a
40x40 canvas. The models are trained on digits only *shifted* (by whole pixels, on the same
canvas), so every rotation, shear and scale here is a transformation never seen in training.

For each image, with angles in radians and all draws uniform and independent:

    A = T(tx, ty) · R(θ) · Sh(k) · Sc(sx, sy)        θ ∈ [-rot, rot], k ∈ [-shear, shear],
                                                      sx, sy ∈ [1 - scale, 1 + scale],
                                                      tx, ty ∈ [-shift, shift] pixels
    out(p) = in(A⁻¹ p)                               bilinear, zero outside the image

The transformation is about the canvas centre; ``affine_grid`` wants the inverse map in
coordinates normalised to [-1, 1], hence the inverse and the division by the half-size.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def pad_to_canvas(images: torch.Tensor, canvas: int) -> torch.Tensor:
    """Centre (N, 1, S, S) images on a (N, 1, canvas, canvas) black background."""
    size = images.shape[-1]
    if canvas < size:
        raise ValueError(f"affine.canvas: at least the image size {size}, got {canvas}")
    before = (canvas - size) // 2
    return F.pad(images, (before, canvas - size - before, before, canvas - size - before))


def random_affine_matrices(
    n: int, rotation_degrees: float, shear: float, scale: float, shift_pixels: float, canvas: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """Forward maps A (N, 2, 3) in pixel units about the canvas centre, drawn as above."""
    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)

    theta = uniform(-1, 1) * math.radians(rotation_degrees)
    k = uniform(-shear, shear)
    sx, sy = uniform(1 - scale, 1 + scale), uniform(1 - scale, 1 + scale)
    tx, ty = uniform(-shift_pixels, shift_pixels), uniform(-shift_pixels, shift_pixels)
    cos, sin = torch.cos(theta), torch.sin(theta)
    zero, one = torch.zeros(n, dtype=torch.float64), torch.ones(n, dtype=torch.float64)
    rotation = torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)
    shearing = torch.stack([torch.stack([one, k], 1), torch.stack([zero, one], 1)], 1)
    scaling = torch.stack([torch.stack([sx, zero], 1), torch.stack([zero, sy], 1)], 1)
    linear = rotation @ shearing @ scaling
    return torch.cat([linear, torch.stack([tx, ty], 1).unsqueeze(-1)], dim=2)


def apply_affine(images: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """out(p) = in(A⁻¹ p) for each image, A (N, 2, 3) in pixels about the centre."""
    half = images.shape[-1] / 2
    linear, offset = matrices[:, :, :2], matrices[:, :, 2:]
    inverse = torch.linalg.inv(linear)
    # affine_grid maps output coordinates in [-1, 1] to input coordinates: p_in = A⁻¹ (p_out - t),
    # with t in normalised units t / half.
    theta = torch.cat([inverse, -inverse @ (offset / half)], dim=2).to(images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def affine_test_set(
    images: torch.Tensor, canvas: int, rotation_degrees: float, shear: float, scale: float, shift_pixels: float,
    seed: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The seeded affNIST-style versions of ``images`` (N, 1, S, S) on the canvas, and the
    matrices used (for the record)."""
    generator = torch.Generator().manual_seed(seed)
    matrices = random_affine_matrices(len(images), rotation_degrees, shear, scale, shift_pixels, canvas, generator)
    return apply_affine(pad_to_canvas(images, canvas), matrices).clamp_(0, 1), matrices


def random_shift_set(images: torch.Tensor, canvas: int, shift_pixels: int, seed: int) -> torch.Tensor:
    """The images on the canvas, each shifted by whole pixels in [-shift, shift] (seeded): the
    kind of image the models were trained on, as a clean reference test set."""
    generator = torch.Generator().manual_seed(seed)
    n = len(images)
    offsets = torch.randint(-shift_pixels, shift_pixels + 1, (n, 2), generator=generator).double()
    eye = torch.eye(2, dtype=torch.float64).expand(n, 2, 2)
    return apply_affine(pad_to_canvas(images, canvas), torch.cat([eye, offsets.unsqueeze(-1)], 2)).clamp_(0, 1)


def robustness_test_sets(images: torch.Tensor, settings: dict) -> dict[str, torch.Tensor]:
    """The test images three ways on ``settings["canvas"]``: ``clean`` (centred), ``shifted``
    by whole pixels up to ``train_shift`` as in training, and ``affine`` (affNIST-style, the
    other keys of ``settings``: rotation_degrees, shear, scale, shift_pixels, seed)."""
    canvas, seed = int(settings["canvas"]), int(settings["seed"])
    transformed, _ = affine_test_set(images, canvas, float(settings["rotation_degrees"]), float(settings["shear"]),
                                     float(settings["scale"]), float(settings["shift_pixels"]), seed)
    return {"clean": pad_to_canvas(images, canvas),
            "shifted": random_shift_set(images, canvas, int(settings["train_shift"]), seed),
            "affine": transformed}
