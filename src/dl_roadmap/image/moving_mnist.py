"""Moving-MNIST (Srivastava, Mansimov & Salakhutdinov 2015), generated from MNIST digits.

Each clip: ``digits`` digits (28 x 28) placed at uniform random positions inside a
``canvas`` x ``canvas`` frame, each moving in a uniform random direction at a fixed
``speed`` (pixels per frame) and bouncing off the edges (the velocity component that would
take it out is reversed). Frames overlay the digits by taking the brighter pixel:

    p_i(t + 1) = p_i(t) + v_i(t)                 position of digit i (its top-left corner)
    v_i,x(t + 1) = -v_i,x(t) if p_i,x(t + 1) leaves [0, canvas - 28] (same for y)
    frame_t = max_i paste(digit_i, p_i(t))

A clip is stored as its *recipe* (which digit images, their paths), a few kilobytes, and
rendered to pixels when a model needs them: 4,000 clips of 20 frames of 64 x 64 would be
330 MB of pixels, their recipes 1.3 MB.

Two motion tasks, each a yes/no question about a clip:

- ``moving_right``: did the digits, taken together, move right? (1 when the sum over the
  digits of x(last frame) - x(first frame) is positive: the net horizontal motion);
- ``approaching``: do the first two digits end closer together than they started?

Playing a clip backwards swaps either answer and leaves the set of frames unchanged, so a
model that pools frames without their order is at chance by construction; only one that
sees the order can do better.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DIGIT = 28  # MNIST digit size


def bouncing_paths(rng: np.random.Generator, clips: int, digits: int, frames: int, canvas: int,
                   speed: float) -> np.ndarray:
    """Top-left corners of every digit in every frame, (clips, digits, frames, 2) float."""
    room = canvas - DIGIT
    if room <= 0:
        raise ValueError(f"moving_mnist.canvas: must exceed the digit size {DIGIT}, got {canvas}")
    position = rng.uniform(0, room, (clips, digits, 2))
    angle = rng.uniform(0, 2 * np.pi, (clips, digits))
    velocity = speed * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
    paths = np.empty((clips, digits, frames, 2))
    for t in range(frames):
        paths[:, :, t] = position
        position = position + velocity
        # Reflect at the walls: mirror the overshoot back in and reverse that component.
        low, high = position < 0, position > room
        position = np.where(low, -position, np.where(high, 2 * room - position, position))
        velocity = np.where(low | high, -velocity, velocity)
    return paths


def generate(images: np.ndarray, labels: np.ndarray, params: dict[str, Any], clips: int, seed: int) -> dict[str, Any]:
    """Recipes of ``clips`` clips from the digit ``images`` (N, 28, 28) uint8.

    Args:
        params: ``digits``, ``frames``, ``canvas``, ``speed``.
    Returns:
        ``digit_index`` (clips, digits) into ``images``, ``digit_labels``, ``paths``
        (clips, digits, frames, 2), the labels of both tasks (clips,), and the settings.
    """
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"moving_mnist: need digit images and as many labels, got {len(images)} and {len(labels)}")
    rng = np.random.default_rng(seed)
    digits, frames, canvas = int(params["digits"]), int(params["frames"]), int(params["canvas"])
    index = rng.integers(0, len(images), (clips, digits))
    paths = bouncing_paths(rng, clips, digits, frames, canvas, float(params["speed"]))
    return {"digit_index": index, "digit_labels": np.asarray(labels)[index], "paths": paths,
            "approaching": approaching(paths), "moving_right": moving_right(paths), "canvas": canvas, "frames": frames}


def approaching(paths: np.ndarray) -> np.ndarray:
    """1 where the first two digits' distance is smaller in the last frame than in the first."""
    distance = np.linalg.norm(paths[:, 0] - paths[:, 1], axis=-1)  # (clips, frames)
    return (distance[:, -1] < distance[:, 0]).astype(np.int64)


def moving_right(paths: np.ndarray) -> np.ndarray:
    """1 where the digits' x positions, summed, grew from the first frame to the last."""
    return (paths[:, :, -1, 0].sum(1) > paths[:, :, 0, 0].sum(1)).astype(np.int64)


TASKS = {"approaching": approaching, "moving_right": moving_right}


def render(images: np.ndarray, recipe: dict[str, Any], frame_stride: int = 1,
           clips: slice | np.ndarray | None = None) -> np.ndarray:
    """Pixels of the clips of ``recipe`` (every ``frame_stride``-th frame), (clips, T, canvas,
    canvas) uint8: each digit pasted at its rounded position, the brighter pixel kept."""
    chosen = slice(None) if clips is None else clips
    index, paths = recipe["digit_index"][chosen], recipe["paths"][chosen][:, :, ::frame_stride]
    n, digits, frames, _ = paths.shape
    canvas = int(recipe["canvas"])
    video = np.zeros((n, frames, canvas, canvas), np.uint8)
    corners = np.rint(paths).astype(int)
    for c in range(n):
        for i in range(digits):
            digit = images[index[c, i]]
            for t in range(frames):
                x, y = corners[c, i, t]
                window = video[c, t, y:y + DIGIT, x:x + DIGIT]
                np.maximum(window, digit, out=window)
    return video
