"""k-fold splitting, bootstrap and weighted resampling, averaging and SAMME."""

from __future__ import annotations

import numpy as np
import pytest

from dl_roadmap.pipelines.regularization.ensembles import average_probabilities, samme_round, samme_vote, softmax
from dl_roadmap.pipelines.regularization.resampling import bootstrap_sample, stratified_folds, weighted_resample


def test_folds_partition_the_set_and_keep_class_proportions():
    labels = np.repeat(np.arange(10), [100, 90, 110, 95, 105, 100, 100, 100, 100, 100])
    np.random.default_rng(0).shuffle(labels)
    folds = stratified_folds(labels, k=4, seed=0)
    assert len(folds) == 4
    held_out = np.concatenate([held for _, held in folds])
    assert sorted(held_out) == list(range(len(labels))), "every example held out exactly once"
    for train, held in folds:
        assert not set(train) & set(held)
        assert len(train) + len(held) == len(labels)
        # Stratified: each class's count in a fold is within one of its share.
        expected = np.bincount(labels, minlength=10) / 4
        assert np.all(np.abs(np.bincount(labels[held], minlength=10) - expected) <= 1)
    assert [h.tolist() for _, h in stratified_folds(labels, 4, 0)] == [h.tolist() for _, h in folds], "seeded"
    with pytest.raises(ValueError, match="cross_validation.folds"):
        stratified_folds(labels, k=1, seed=0)


def test_bootstrap_draws_with_replacement_about_63_percent_unique():
    sample = bootstrap_sample(20000, np.random.default_rng(0))
    assert len(sample) == 20000 and sample.min() >= 0 and sample.max() < 20000
    assert len(np.unique(sample)) / 20000 == pytest.approx(1 - np.exp(-1), abs=0.01)


def test_weighted_resample_follows_the_weights():
    weights = np.array([0.0, 1.0, 3.0])
    counts = np.bincount(weighted_resample(np.tile(weights, 3000), np.random.default_rng(0)) % 3, minlength=3)
    assert counts[0] == 0
    assert counts[2] / counts[1] == pytest.approx(3.0, rel=0.1)
    with pytest.raises(ValueError, match="non-negative"):
        weighted_resample(np.array([-1.0, 2.0]), np.random.default_rng(0))


def test_averaged_probabilities_can_beat_every_member():
    # Two members, two examples, true class 0 for both. Each member is wrong once but
    # confidently right on the other, so the average is right on both.
    a = np.array([[0.9, 0.1], [0.4, 0.6]])
    b = np.array([[0.45, 0.55], [0.8, 0.2]])
    mean = average_probabilities([a, b])
    assert np.allclose(mean, [[0.675, 0.325], [0.6, 0.4]])
    assert (a.argmax(1) == 0).mean() == 0.5 and (b.argmax(1) == 0).mean() == 0.5 and (mean.argmax(1) == 0).all()
    assert np.allclose(softmax(np.array([[0.0, np.log(3.0)]])), [[0.25, 0.75]])


def test_samme_round_by_hand():
    # 4 examples, uniform weights, the learner misses one: err = 1/4,
    # alpha = log(3/1) + log(K - 1) = log 3 + log 9 = log 27; the missed one's weight x 27.
    error, alpha, weights = samme_round(np.full(4, 0.25), np.array([True, False, False, False]), classes=10)
    assert error == pytest.approx(0.25)
    assert alpha == pytest.approx(np.log(27.0))
    assert np.allclose(weights, np.array([27.0, 1.0, 1.0, 1.0]) / 30.0)
    # A learner at chance level for K classes (err = 1 - 1/K) gets alpha = 0.
    _, chance_alpha, _ = samme_round(np.full(10, 0.1), np.arange(10) > 0, classes=10)
    assert chance_alpha == pytest.approx(0.0, abs=1e-12)


def test_samme_vote_weighs_members_by_alpha():
    predictions = [np.array([0, 1]), np.array([2, 1]), np.array([2, 0])]
    assert samme_vote(predictions, [3.0, 1.0, 1.0], classes=3).tolist() == [0, 1]
    assert samme_vote(predictions, [1.0, 1.0, 1.0], classes=3).tolist() == [2, 1]
