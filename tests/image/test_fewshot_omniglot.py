"""Omniglot reading (checksums, formats) and the modified Hausdorff distance."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from scipy.spatial.distance import directed_hausdorff

from dl_roadmap.image.fewshot_omniglot import (EMBEDDED, downsample, ink_points, modified_hausdorff, read_background,
                                               read_runs)


def test_background_set_shapes_and_ink() -> None:
    data = read_background("images_background_small1", alphabets=["Latin"], max_characters=3)
    assert data["images"].shape == (3, 20, 28, 28) and data["images"].dtype == np.uint8
    assert set(data["alphabet"]) == {"Latin"}
    ink_share = data["images"].mean() / 255
    assert 0.03 < ink_share < 0.4, "strokes are the minority of pixels (ink = 1)"


def test_a_corrupt_file_fails_naming_it(tmp_path) -> None:
    for f in ("SHA256SUMS", "images_background_small1.zip"):
        shutil.copy(EMBEDDED / f, tmp_path / f)
    with open(tmp_path / "images_background_small1.zip", "r+b") as handle:
        handle.seek(1000)
        handle.write(b"corrupt")
    with pytest.raises(ValueError, match="images_background_small1.zip: SHA-256"):
        read_background("images_background_small1", folder=tmp_path)
    with pytest.raises(FileNotFoundError, match="all_runs.zip"):
        read_runs(folder=tmp_path)


def test_runs_read_the_answer_key() -> None:
    run = read_runs(runs=1)[0]
    assert run["train"].shape == (20, 105, 105) and run["test_small"].shape == (20, 28, 28)
    assert sorted(run["answer"].tolist()) == list(range(20)), "each training class is the answer of one test item"
    assert run["answer"][0] == 7, "run01/class_labels.txt: item01 -> class08"


def test_downsample_averages_blocks() -> None:
    strokes = np.zeros((105, 105), dtype=bool)
    strokes[:, :53] = True
    small = downsample(strokes, size=7)   # 15x15 blocks
    assert small[:, :3].min() == 255 and small[:, 4:].max() == 0


def test_modified_hausdorff_by_hand_and_against_scipy() -> None:
    a = np.array([[0.0, 0.0], [0.0, 2.0]])
    b = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, 5.0]])
    # d(A,B) = mean(0, 1) = 0.5;  d(B,A) = mean(0, 1, 3) = 4/3
    assert modified_hausdorff(a, b) == pytest.approx(4 / 3)
    rng = np.random.default_rng(0)
    p, q = rng.normal(size=(30, 2)), rng.normal(size=(40, 2))
    # the mean of the minimum distances is at most their maximum (scipy's classic Hausdorff)
    assert modified_hausdorff(p, q) <= max(directed_hausdorff(p, q)[0], directed_hausdorff(q, p)[0])


def test_ink_points_are_centred() -> None:
    strokes = np.zeros((105, 105), dtype=bool)
    strokes[10:20, 30] = True
    assert np.allclose(ink_points(strokes).mean(axis=0), 0)
