"""Unit tests of mnist_autoencoder's nodes and serving wrapper on tiny data (the models,
split and steps are the image library's: tests/image)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from dl_roadmap.image.autoencoder import ConvAutoencoder, DigitClassifier
from dl_roadmap.image.data import split_mnist
from dl_roadmap.pipelines.mnist_autoencoder import nodes
from dl_roadmap.pipelines.mnist_autoencoder.serving import DigitModel, to_model_input
from tests.image.fakes import fake_mnist


SPLIT = {"val_size": 60, "seed": 0, "train_limit": None, "test_limit": None}


def test_code_classifiers_separate_separable_codes():
    rng = np.random.default_rng(0)
    labels = np.arange(400) % 10
    centres = rng.normal(0, 5, (10, 6))
    codes = centres[labels] + rng.normal(0, 0.3, (400, 6))
    data = {"train_codes": codes[:300], "train_labels": labels[:300], "test_codes": codes[300:], "test_labels": labels[300:]}
    metrics = nodes.evaluate_code_classifiers(data, {"knn_neighbors": 3, "probe_max_iter": 500})
    assert metrics["linear_probe_test_accuracy"] > 0.95 and metrics["knn_test_accuracy"] > 0.95


def test_evaluate_classifier_reports_per_class_table():
    splits, _ = split_mnist(fake_mnist(), SPLIT)
    model = DigitClassifier(ConvAutoencoder(8, (4,)).encoder, hidden=8)
    metrics, per_class, predicted = nodes.evaluate_classifier(model, splits, {"accelerator": "cpu"})
    assert predicted.shape == (50,) and 0 <= metrics["classifier_test_accuracy"] <= 1
    assert list(per_class.columns) == ["digit", "precision", "recall", "f1", "support"]
    assert per_class["support"].sum() == 50
    assert metrics["classifier_test_accuracy"] == pytest.approx((predicted == splits["test_labels"]).mean())


def test_summarize_results_formats_metrics_for_mlflow():
    history = pd.DataFrame({"epoch": [0, 1], "val_mse": [0.05, 0.03]})
    metrics, table = nodes.summarize_results({"linear_probe_test_accuracy": 0.9, "knn_test_accuracy": 0.95},
                                             {"classifier_test_accuracy": 0.99}, history)
    assert metrics["autoencoder_best_val_mse"] == {"value": 0.03, "step": 0}
    assert table["test_accuracy"].tolist() == [0.9, 0.95, 0.99]


@pytest.mark.parametrize(
    "images",
    [np.zeros((2, 28, 28), np.uint8), np.zeros((2, 784), np.float32), np.zeros((28, 28)), np.zeros((2, 1, 28, 28)),
     pd.DataFrame(np.zeros((2, 784)))],
)
def test_serving_input_accepts_common_layouts(images):
    batch = to_model_input(images)
    assert batch.shape[1:] == (1, 28, 28) and batch.dtype == torch.float32


def test_serving_scales_integers_and_rejects_bad_shapes():
    assert to_model_input(np.full((1, 28, 28), 255, np.uint8)).max() == 1.0
    assert to_model_input(np.full((1, 28, 28), 0.5, np.float32)).max() == 0.5
    with pytest.raises(ValueError, match=r"\(N, 28, 28\).*\(3, 27, 28\)"):
        to_model_input(np.zeros((3, 27, 28)))
    out = DigitModel(DigitClassifier(ConvAutoencoder(8, (4,)).encoder, hidden=8)).predict(None, np.zeros((3, 28, 28)))
    assert out.shape == (3, 11) and set(out["digit"]) <= set(range(10))
