"""Animated GIFs from frames, kept as Pillow images so a ``pillow.ImageDataset`` catalog entry
(``save_args: {save_all: true, loop: 0}``) writes them and kedro-mlflow logs them."""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
from PIL import Image


def gif_from_frames(frames: Sequence[np.ndarray], frame_ms: int = 100, scale: int = 1) -> Image.Image:
    """Frames (H, W) grey or (H, W, 3) RGB, uint8 or float in [0, 1] -> one animated GIF.

    ``scale`` enlarges each frame by pixel repetition (28x28 digits are tiny on screen).
    The GIF is encoded once in memory and reopened, so the image that comes back carries
    every frame (``n_frames``) and saves as an animation.
    """
    if len(frames) == 0:
        raise ValueError("gif_from_frames: no frames given")
    images = [Image.fromarray(_as_uint8(frame)) for frame in frames]
    if scale != 1:
        images = [image.resize((image.width * scale, image.height * scale), Image.NEAREST) for image in images]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=int(frame_ms), loop=0)
    buffer.seek(0)
    return Image.open(buffer)


def _as_uint8(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] != 3):
        raise ValueError(f"gif_from_frames: a frame must be (H, W) or (H, W, 3), got {frame.shape}")
    if np.issubdtype(frame.dtype, np.floating):
        frame = np.clip(frame, 0.0, 1.0) * 255.0
    return frame.astype(np.uint8)
