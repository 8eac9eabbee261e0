"""Builders, training steps and the CNN baseline of the capsule_networks pipelines.

The CapsNet is trained as in the paper (Section 4): margin loss on the capsule lengths plus
0.0005 x the reconstruction error of the true class's capsule, images shifted by up to 2
pixels in each direction (zero padded), Adam. Its ``forward`` returns the capsule lengths,
so the trained model is a classifier whose class scores are lengths in [0, 1).

The baseline CNN (the paper's Section 5.2 compares against "a traditional convolutional
model with a similar number of parameters"): two 5x5 convolutions with max pooling, a
hidden fully connected layer with dropout, and a linear output, trained with cross-entropy
on the same shifted images; its hidden width is solved so that its parameter count matches
the CapsNet's (``matched_hidden``).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.core.stages.compress.measure import width_for_parameter_count
from dl_roadmap.image.capsules import CapsNet, margin_loss, reconstruction_loss


def random_shift(images: torch.Tensor, pixels: int) -> torch.Tensor:
    """Shift every image by its own whole-pixel offset in [-pixels, pixels] along each axis,
    filling with zeros (the paper's only augmentation). ``images``: (N, 1, S, S)."""
    if pixels <= 0:
        return images
    n, _, size, _ = images.shape
    padded = F.pad(images, (pixels,) * 4)
    dy, dx = (torch.randint(0, 2 * pixels + 1, (n,), device=images.device) for _ in range(2))
    span = torch.arange(size, device=images.device)
    rows = (dy[:, None] + span)[:, :, None].expand(n, size, size)
    cols = (dx[:, None] + span)[:, None, :].expand(n, size, size)
    return padded[torch.arange(n, device=images.device)[:, None, None], 0, rows, cols].unsqueeze(1)


def capsule_step(
    model: CapsNet, batch: Any, reconstruction_weight: float = 0.0005, shift: int = 2
) -> dict[str, torch.Tensor]:
    """Margin loss + reconstruction_weight x reconstruction loss; accuracy alongside."""
    images, labels = batch
    if model.training:
        images = random_shift(images, shift)
    v, _ = model.capsules(images)
    lengths = v.norm(dim=-1)
    margin = margin_loss(lengths, labels)
    # The decoder sees the true class's capsule while training (the paper's masking).
    recon = reconstruction_loss(model.reconstruct(v, labels), images)
    return {
        "loss": margin + reconstruction_weight * recon,
        "margin": margin,
        "reconstruction": recon,
        "acc": (lengths.argmax(1) == labels).float().mean(),
    }


def capsule_step_for(config: dict[str, Any]) -> Any:
    """StageTask step factory: the capsule step with the config's weight and shift."""
    return partial(capsule_step, reconstruction_weight=float(config.get("reconstruction_weight", 0.0005)),
                   shift=int(config.get("shift", 2)))


def capsnet_from_config(config: dict[str, Any], base: Any = None) -> CapsNet:
    """A fresh CapsNet from the config's ``model`` block, weights drawn from the fit seed."""
    del base
    torch.manual_seed(int(config["fit"]["seed"]))
    model = dict(config["model"])
    model["decoder_hidden"] = tuple(model.get("decoder_hidden", (512, 1024)))
    return CapsNet(**model)


class BaselineCNN(nn.Module):
    """Images (N, 1, S, S) -> class logits: [5x5 conv, ReLU, 2x2 max pool] x 2 -> hidden
    (ReLU, dropout) -> classes."""

    def __init__(self, channels: tuple[int, int] | list[int] = (32, 64), hidden: int = 128, dropout: float = 0.5,
                 image_size: int = 28, classes: int = 10):
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        side = image_size // 4
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c2 * side * side, int(hidden)), nn.ReLU(inplace=True),
                                  nn.Dropout(dropout), nn.Linear(int(hidden), classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def matched_hidden(target: int, channels: tuple[int, int] | list[int], image_size: int, classes: int = 10) -> int:
    """The hidden width whose BaselineCNN has the parameter count closest to ``target``
    (the count is linear in the width: solve, then round)."""
    return width_for_parameter_count(
        target, lambda width: BaselineCNN(channels, width, image_size=image_size, classes=classes))


def cnn_step(model: nn.Module, batch: Any, shift: int = 2) -> dict[str, torch.Tensor]:
    """Cross-entropy on the same shifted images as the CapsNet; accuracy alongside."""
    images, labels = batch
    if model.training:
        images = random_shift(images, shift)
    logits = model(images)
    return {"loss": F.cross_entropy(logits, labels), "acc": (logits.argmax(1) == labels).float().mean()}
