"""Frozen-feature evaluation: our cosine kNN against scikit-learn's, the linear probe on
separable features, the geometry of a collapsed encoder, t-SNE's shape."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.image.ssl_eval import features, geometry, knn_accuracy, linear_probe, tsne_2d


def test_knn_equals_scikit_learns_cosine_knn() -> None:
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(300, 6)), rng.normal(size=(120, 6))
    train_y, test_y = rng.integers(0, 4, 300), rng.integers(0, 4, 120)
    reference = KNeighborsClassifier(7, metric="cosine", algorithm="brute").fit(train, train_y).score(test, test_y)
    assert knn_accuracy(train, train_y, test, test_y, k=7) == pytest.approx(reference, abs=0.02)   # ties may break apart


def test_linear_probe_separates_separable_features() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    x = np.eye(3)[y] * 5 + rng.normal(size=(200, 3)) * 0.1
    assert linear_probe(x, y, x, y) == 1.0


def test_a_constant_encoder_is_perfectly_aligned_and_not_uniform() -> None:
    class Constant(torch.nn.Module):
        def forward(self, x):
            return torch.ones(len(x), 4)

    result = geometry(Constant(), torch.rand(10, 1, 28, 28), {}, 0)
    assert result["alignment"] == pytest.approx(0.0) and result["uniformity"] == pytest.approx(0.0, abs=1e-6)


def test_raw_pixels_and_tsne_shapes() -> None:
    images = torch.rand(30, 1, 28, 28)
    assert features(None, images).shape == (30, 784)
    assert tsne_2d(features(None, images), 0, 5).shape == (30, 2)
