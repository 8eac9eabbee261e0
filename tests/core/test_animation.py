"""gif_from_frames: every frame kept, grey and colour, float and uint8, scaled; bad frames named."""

from __future__ import annotations

import numpy as np
import pytest

from dl_roadmap.core.animation import gif_from_frames


def test_every_frame_is_kept_and_scaled():
    frames = [np.full((4, 6), value, np.uint8) for value in (0, 128, 255)]
    gif = gif_from_frames(frames, frame_ms=50, scale=3)
    assert gif.format == "GIF" and gif.n_frames == 3 and gif.size == (18, 12)
    gif.seek(2)
    assert np.asarray(gif.convert("L")).min() == 255


def test_float_colour_frames_are_clipped_to_the_byte_range():
    frames = [np.random.default_rng(seed).uniform(-0.5, 1.5, size=(5, 5, 3)) for seed in range(2)]
    assert gif_from_frames(frames).n_frames == 2


def test_bad_frames_are_refused_with_their_shape():
    with pytest.raises(ValueError, match="no frames"):
        gif_from_frames([])
    with pytest.raises(ValueError, match=r"\(5, 5, 4\)"):
        gif_from_frames([np.zeros((5, 5, 4))])
