"""Frames of one episode, for ``dl_roadmap.core.animation.gif_from_frames``.

    frames = record_episode("CartPole-v1", policy.act, seed=0, max_frames=200, every=2)
    gif = gif_from_frames(frames, frame_ms=40)

The environment renders with ``render_mode="rgb_array"`` (headless: pygame draws into a
surface, MuJoCo through EGL) and each kept frame is shrunk so its longer side is at most
``max_side`` pixels: a 600x400 CartPole frame is 700 KB of RGB, a GIF of hundreds of them
would be tens of MB.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dl_roadmap.rl.envs import make_env
from dl_roadmap.rl.evaluate import ActFn


def record_episode(env_id: str, act_fn: ActFn, seed: int, max_frames: int, every: int = 1,
                   env_kwargs: dict[str, Any] | None = None, max_side: int = 240) -> list[np.ndarray]:
    """RGB frames (uint8, H x W x 3) of one seeded episode: the start and every ``every``-th
    step after it, until the episode ends or ``max_frames`` frames are kept; the final frame
    is always kept so the GIF shows how the episode ended."""
    if int(max_frames) < 1 or int(every) < 1:
        raise ValueError(f"record_episode: max_frames and every must be >= 1, got {max_frames}, {every}")
    env = make_env(env_id, render_mode="rgb_array", **(env_kwargs or {}))
    frames: list[np.ndarray] = []
    try:
        observation, _ = env.reset(seed=int(seed))
        frames.append(_shrink(env.render(), max_side))
        step, done, last = 0, False, None
        while not done and len(frames) < int(max_frames):
            observation, _, terminated, truncated, _ = env.step(act_fn(observation))
            step += 1
            done = terminated or truncated
            frame = env.render()
            if step % int(every) == 0:
                frames.append(_shrink(frame, max_side))
                last = None
            else:
                last = frame
        if last is not None and len(frames) < int(max_frames):
            frames.append(_shrink(last, max_side))
    finally:
        env.close()
    return frames


def _shrink(frame: np.ndarray, max_side: int) -> np.ndarray:
    from PIL import Image

    frame = np.asarray(frame, dtype=np.uint8)
    height, width = frame.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return frame
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(frame).resize(size, Image.BILINEAR))
