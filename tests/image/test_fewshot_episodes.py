"""Episodes, rotations, the Conv-4 embedding and the confidence interval."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.image.fewshot_episodes import (Conv4, embed, episode_tensors, mean_and_ci, sample_episode,
                                               with_rotations)


def test_episode_draws_distinct_classes_and_disjoint_support_and_query() -> None:
    rng = np.random.default_rng(0)
    classes, support, query = sample_episode(30, 20, 5, 3, 4, rng)
    assert len(set(classes)) == 5 and support.shape == (5, 3) and query.shape == (5, 4)
    for s, q in zip(support, query):
        assert not set(s) & set(q)
    with pytest.raises(ValueError, match="needs 40 classes"):
        sample_episode(30, 20, 40, 1, 1, rng)


def test_episode_tensors_are_ordered_class_by_class() -> None:
    images = np.repeat(np.arange(10, dtype=np.uint8)[:, None, None, None], 20, axis=1) * np.ones((1, 1, 4, 4), np.uint8)
    xs, ys, xq, yq = episode_tensors(images, 3, 2, 1, np.random.default_rng(0))
    assert xs.shape == (6, 1, 4, 4) and ys.tolist() == [0, 0, 1, 1, 2, 2] and yq.tolist() == [0, 1, 2]
    assert torch.equal(xs[::2, 0, 0, 0], xq[:, 0, 0, 0]), "support and query of a class come from one character"


def test_rotations_make_new_classes() -> None:
    images = np.random.default_rng(0).integers(0, 255, (2, 3, 5, 5), dtype=np.uint8)
    rotated = with_rotations(images, [0, 90, 180, 270])
    assert rotated.shape == (8, 3, 5, 5)
    assert np.array_equal(rotated[2], np.rot90(images[0], 1, axes=(1, 2)))


def test_conv4_maps_28x28_to_its_width() -> None:
    model = Conv4(16)
    assert model(torch.rand(4, 1, 28, 28)).shape == (4, 16)
    images = np.zeros((3, 2, 28, 28), dtype=np.uint8)
    assert embed(model, images).shape == (3, 2, 16)


def test_confidence_interval_is_196_standard_errors() -> None:
    acc = np.array([0.5, 1.0, 0.75, 0.25])
    mean, ci = mean_and_ci(acc)
    assert mean == pytest.approx(0.625)
    assert ci == pytest.approx(1.96 * np.std(acc, ddof=1) / 2)
