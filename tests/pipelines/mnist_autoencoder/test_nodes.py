"""Unit tests of mnist_autoencoder's nodes, models and serving wrapper on tiny data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from dl_roadmap.pipelines.mnist_autoencoder import nodes
from dl_roadmap.pipelines.mnist_autoencoder.models import ConvAutoencoder, DigitClassifier
from dl_roadmap.pipelines.mnist_autoencoder.serving import DigitModel, to_model_input


def fake_mnist(n_train: int = 300, n_test: int = 50, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": np.arange(n_train, dtype=np.uint8) % 10,
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": np.arange(n_test, dtype=np.uint8) % 10,
        "source": "fake",
    }


SPLIT = {"val_size": 60, "seed": 0, "train_limit": None, "test_limit": None}


def test_split_is_disjoint_seeded_and_complete():
    raw = fake_mnist()
    splits, summary = nodes.split_mnist(raw, SPLIT)
    assert (len(splits["train_labels"]), len(splits["val_labels"]), len(splits["test_labels"])) == (240, 60, 50)
    train = {img.tobytes() for img in splits["train_images"]}
    assert not train & {img.tobytes() for img in splits["val_images"]}
    again, _ = nodes.split_mnist(raw, SPLIT)
    np.testing.assert_array_equal(splits["val_images"], again["val_images"])
    assert summary["source"] == "fake" and sum(summary["train_label_counts"]) == 240


def test_split_limits_and_bad_val_size():
    splits, _ = nodes.split_mnist(fake_mnist(), {**SPLIT, "train_limit": 100, "test_limit": 20})
    assert (len(splits["train_labels"]), len(splits["val_labels"]), len(splits["test_labels"])) == (100, 20, 20)
    with pytest.raises(ValueError, match="mnist.val_size"):
        nodes.split_mnist(fake_mnist(), {**SPLIT, "val_size": 300})


@pytest.mark.parametrize("channels", [(8,), (8, 16), (8, 16, 16)])
def test_autoencoder_shapes_for_each_depth(channels):
    model = ConvAutoencoder(latent_dim=12, channels=channels)
    x = torch.rand(3, 1, 28, 28)
    assert model.encoder(x).shape == (3, 12)
    assert model(x).shape == x.shape
    assert DigitClassifier(model.encoder)(x).shape == (3, 10)


def test_reconstruction_step_reconstructs_the_clean_image():
    model = ConvAutoencoder(8, (4,))
    batch = (torch.rand(4, 1, 28, 28),)
    model.train()
    noisy = nodes.reconstruction_step(model, batch, denoising={"kind": "mask", "level": 0.5})
    model.eval()
    clean = nodes.reconstruction_step(model, batch, denoising={"kind": "mask", "level": 0.5})
    assert set(noisy) == {"loss", "mse"} and noisy["loss"].requires_grad
    # in eval mode no corruption is applied, so the result is deterministic
    torch.testing.assert_close(clean["loss"], nodes.reconstruction_step(model, batch)["loss"])


def test_build_classifier_copies_pretrained_encoder_or_starts_fresh():
    autoencoder = ConvAutoencoder(8, (4, 8))
    pretrained = nodes.build_classifier(autoencoder, {"model": {"hidden": 16}}, pretrained=True)
    scratch = nodes.build_classifier(autoencoder, {"model": {"hidden": 16}}, pretrained=False)
    first = "features.0.0.weight"
    torch.testing.assert_close(pretrained.encoder.state_dict()[first], autoencoder.encoder.state_dict()[first])
    assert not torch.equal(scratch.encoder.state_dict()[first], autoencoder.encoder.state_dict()[first])
    pretrained.encoder.features[0][0].weight.data.zero_()
    assert autoencoder.encoder.features[0][0].weight.abs().sum() > 0, "fine-tuning must not alter the autoencoder"


def test_code_classifiers_separate_separable_codes():
    rng = np.random.default_rng(0)
    labels = np.arange(400) % 10
    centres = rng.normal(0, 5, (10, 6))
    codes = centres[labels] + rng.normal(0, 0.3, (400, 6))
    data = {"train_codes": codes[:300], "train_labels": labels[:300], "test_codes": codes[300:], "test_labels": labels[300:]}
    metrics = nodes.evaluate_code_classifiers(data, {"knn_neighbors": 3, "probe_max_iter": 500})
    assert metrics["linear_probe_test_accuracy"] > 0.95 and metrics["knn_test_accuracy"] > 0.95


def test_evaluate_classifier_reports_per_class_table():
    splits, _ = nodes.split_mnist(fake_mnist(), SPLIT)
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
