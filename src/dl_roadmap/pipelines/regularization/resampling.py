"""Which examples each model trains on: k folds, bootstrap samples, weighted resamples."""

from __future__ import annotations

import numpy as np


def stratified_folds(labels: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """k (train, held-out) index pairs; the held-out parts partition ``range(len(labels))``
    and each keeps the class proportions of the whole (scikit-learn's StratifiedKFold,
    shuffled with ``seed``). With ~100 images per class, unstratified folds of 250 would
    differ by several images per class, which shows up as fold-to-fold noise."""
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    if not 2 <= int(k) <= np.bincount(labels).min():
        raise ValueError(f"cross_validation.folds: between 2 and the smallest class count "
                         f"({np.bincount(labels).min()}), got {k!r}")
    splitter = StratifiedKFold(n_splits=int(k), shuffle=True, random_state=int(seed))
    return [(train, held_out) for train, held_out in splitter.split(np.zeros(len(labels)), labels)]


def bootstrap_sample(n: int, rng: np.random.Generator) -> np.ndarray:
    """n indices drawn uniformly with replacement: about 1 - 1/e = 63.2% of the examples
    appear at least once, the others are this model's out-of-bag examples (Breiman 1996)."""
    return rng.integers(0, int(n), size=int(n))


def weighted_resample(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """len(weights) indices drawn with replacement with probability proportional to
    ``weights``: how boosting hands its example weights to a learner that cannot take
    sample weights in its loss (boosting by resampling, Freund & Schapire 1996)."""
    weights = np.asarray(weights, dtype=np.float64)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("weighted_resample: weights must be non-negative with a positive sum")
    return rng.choice(len(weights), size=len(weights), replace=True, p=weights / weights.sum())
