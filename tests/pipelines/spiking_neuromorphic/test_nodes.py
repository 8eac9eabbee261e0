"""spiking_neuromorphic: the event camera model and the event data."""

from __future__ import annotations

import numpy as np
import pytest

from dl_roadmap.pipelines.spiking_neuromorphic.events import dvs_events
from dl_roadmap.pipelines.spiking_neuromorphic.nodes import make_events


def test_a_brightening_pixel_emits_on_a_darkening_one_off_a_still_one_nothing() -> None:
    video = np.zeros((1, 3, 2, 2), np.uint8)
    video[0, 1:, 0, 0] = 255          # brightens at t = 1 and stays
    video[0, 0, 0, 1] = 255           # darkens at t = 1
    video[0, :, 1, 1] = 128           # never changes
    events = dvs_events(video, threshold=0.2)
    assert events.shape == (1, 2, 2, 2, 2)
    assert events[0, 0, 0, 0, 0] == 1 and events[0, 0, 1, 0, 1] == 1
    assert events[0, 1].sum() == 0, "the reference moved: no new event without a new change"
    assert events[0, :, :, 1, 1].sum() == 0


def test_small_changes_stay_below_the_contrast_threshold() -> None:
    video = np.full((1, 2, 1, 1), 200, np.uint8)
    video[0, 1] = 205
    assert dvs_events(video, threshold=0.2).sum() == 0


def test_bad_frames_fail_naming_the_shape() -> None:
    with pytest.raises(ValueError, match="clips, T, H, W"):
        dvs_events(np.zeros((3, 4, 4), np.uint8), 0.2)


def test_moving_digits_become_sparse_event_streams() -> None:
    rng = np.random.default_rng(0)
    raw = {f"{s}_images": (rng.random((20, 28, 28)) > 0.7).astype(np.uint8) * 255 for s in ("train", "test")}
    raw.update({f"{s}_labels": rng.integers(0, 10, 20) for s in ("train", "test")})
    params = {"clip": {"frames": 5, "canvas": 34, "speed": 2.0}, "threshold": 0.2, "train_clips": 6,
              "val_clips": 2, "test_clips": 3, "picture_clips": 2, "seed": 0}
    data = make_events(raw, params)
    assert data["train_events"].shape == (6, 4, 2, 34, 34) and data["test_events"].shape == (3, 4, 2, 34, 34)
    assert data["test_frames"].shape == (2, 5, 34, 34)
    assert 0 < data["train_events"].mean() < 0.3
    assert set(np.unique(data["train_labels"])) <= set(range(10))
