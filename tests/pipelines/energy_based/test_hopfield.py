"""The Hopfield network: Hebbian weights, energy descent, recall and capacity."""

from __future__ import annotations

import numpy as np

from dl_roadmap.pipelines.energy_based import hopfield


def test_hebbian_weights_are_symmetric_with_zero_diagonal() -> None:
    patterns = np.random.default_rng(0).choice([-1.0, 1.0], size=(3, 20))
    w = hopfield.hebbian_weights(patterns)
    assert np.allclose(w, w.T) and np.all(np.diag(w) == 0)
    assert np.allclose(w[0, 1], patterns[:, 0] @ patterns[:, 1] / 20)


def test_energy_never_increases_under_asynchronous_updates() -> None:
    rng = np.random.default_rng(1)
    patterns = rng.choice([-1.0, 1.0], size=(15, 60))  # heavily loaded: many updates, spurious minima
    start = rng.choice([-1.0, 1.0], size=(8, 60))
    final, energies = hopfield.recall(hopfield.hebbian_weights(patterns), start, rng, record_energy=True)
    trace = np.stack(energies)
    assert len(trace) > 60
    assert np.all(np.diff(trace, axis=0) <= 1e-12), "an asynchronous update raised the energy"
    assert np.all(trace[-1] < trace[0])


def test_recall_restores_corrupted_patterns_at_low_load() -> None:
    rng = np.random.default_rng(2)
    patterns = rng.choice([-1.0, 1.0], size=(5, 200))
    noisy = hopfield.corrupt(patterns, 0.2, rng)
    assert np.allclose(hopfield.overlap(noisy, patterns), 0.6)
    final, _ = hopfield.recall(hopfield.hebbian_weights(patterns), noisy, rng)
    assert np.all(hopfield.overlap(final, patterns) == 1.0)


def test_capacity_curve_breaks_down_between_low_and_high_load() -> None:
    rows = hopfield.capacity_curve(200, [0.05, 0.3], trials=1, flip_fraction=0.05, threshold=0.95, seed=0)
    assert rows[0]["recall_rate"] == 1.0 and rows[1]["recall_rate"] < 0.5
    assert 0.05 < hopfield.critical_load(rows) < 0.3
