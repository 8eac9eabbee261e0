"""Few-shot episodes, the Conv-4 embedding and episode accuracy with its confidence interval.

An N-way K-shot episode draws N classes never used to train the model, K labelled
*support* images of each and Q *query* images of each to classify:

    S = {(x_i, y_i)}_{i=1..NK},   Q = {(x_j, y_j)}_{j=1..NQ},   y in {0..N-1}

A data set here is an array ``images`` (C, D, H, W) uint8: C classes, D drawings each
(Omniglot: 20 drawers). Rotating every character by 90, 180 and 270 degrees makes three new
classes from each (Santoro et al. 2016, Vinyals et al. 2016, Snell et al. 2017).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


def with_rotations(images: np.ndarray, rotations: list[int]) -> np.ndarray:
    """(C, D, H, W) -> (C * len(rotations), D, H, W): each rotation by k x 90 degrees a new class."""
    return np.concatenate([np.rot90(images, k=k // 90, axes=(2, 3)) for k in rotations], axis=0).copy()


def as_float(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (..., H, W) -> float (..., 1, H, W) in [0, 1] (the embedding's input)."""
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32) / 255.0
    return x.unsqueeze(-3)


def sample_episode(num_classes: int, drawings: int, way: int, shot: int, query: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of one episode: ``classes`` (way,), ``support`` (way, shot) and ``query``
    (way, query) drawing indices, without repeats inside a class."""
    if way > num_classes or shot + query > drawings:
        raise ValueError(f"episode of {way}-way {shot}-shot {query}-query needs {way} classes and "
                         f"{shot + query} drawings each; the data has {num_classes} and {drawings}")
    classes = rng.choice(num_classes, size=way, replace=False)
    order = np.stack([rng.permutation(drawings)[: shot + query] for _ in range(way)])
    return classes, order[:, :shot], order[:, shot:]


def episode_tensors(images: np.ndarray, way: int, shot: int, query: int,
                    rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One episode as float tensors: support (way*shot, 1, H, W) with labels (way*shot,),
    query (way*query, 1, H, W) with labels; support and query are ordered class by class."""
    classes, support, queries = sample_episode(images.shape[0], images.shape[1], way, shot, query, rng)
    xs = images[classes[:, None], support].reshape(-1, *images.shape[2:])
    xq = images[classes[:, None], queries].reshape(-1, *images.shape[2:])
    return (as_float(xs), torch.arange(way).repeat_interleave(shot),
            as_float(xq), torch.arange(way).repeat_interleave(query))


def conv_block(channels_in: int, channels_out: int) -> nn.Sequential:
    """3x3 convolution, batch norm, ReLU, 2x2 max-pool: 28 -> 14 -> 7 -> 3 -> 1 over four blocks."""
    return nn.Sequential(nn.Conv2d(channels_in, channels_out, 3, padding=1), nn.BatchNorm2d(channels_out),
                         nn.ReLU(), nn.MaxPool2d(2))


class Conv4(nn.Module):
    """The few-shot papers' embedding (Vinyals et al. 2016, Snell et al. 2017): four conv
    blocks of ``channels`` filters; (N, 1, 28, 28) float in [0, 1] -> (N, channels)."""

    def __init__(self, channels: int = 64, blocks: int = 4, in_channels: int = 1) -> None:
        super().__init__()
        widths = [in_channels] + [channels] * blocks
        self.features = nn.Sequential(*[conv_block(a, b) for a, b in zip(widths, widths[1:])])
        self.out_features = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).flatten(1)


@torch.no_grad()
def embed(model: nn.Module, images: np.ndarray, batch_size: int = 512) -> torch.Tensor:
    """Embeddings of every image of (C, D, H, W) uint8 -> (C, D, F), the model in eval mode."""
    model.eval()
    flat = images.reshape(-1, *images.shape[2:])
    out = torch.cat([model(as_float(flat[i: i + batch_size])) for i in range(0, len(flat), batch_size)])
    return out.reshape(images.shape[0], images.shape[1], -1)


def mean_and_ci(accuracies: np.ndarray) -> tuple[float, float]:
    """Mean accuracy over episodes and the half-width of its 95% confidence interval,
    1.96 * std / sqrt(episodes) (the normal approximation the few-shot papers report)."""
    accuracies = np.asarray(accuracies, dtype=np.float64)
    return float(accuracies.mean()), float(1.96 * accuracies.std(ddof=1) / np.sqrt(len(accuracies)))


def episode_settings(params: dict[str, Any]) -> list[tuple[int, int]]:
    """The (way, shot) pairs of an evaluation block ``{ways: [...], shots: [...]}``."""
    return [(w, s) for w in params["ways"] for s in params["shots"]]
