"""Nodes of self_supervised: pretrain every method on the same encoder and unlabelled
Fashion-MNIST images, then judge the frozen encoders (linear probe, kNN, alignment and
uniformity, t-SNE) against raw pixels, a random encoder and a supervised one; fine-tune the
SimCLR encoder into the classifier the explain stage reads. Plain functions of plain values."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.image.autoencoder import ConvEncoder, DigitClassifier
from dl_roadmap.image.data import image_tensor, split_mnist
from dl_roadmap.image.ssl_eval import features, geometry, knn_accuracy, linear_probe, tsne_2d
from dl_roadmap.image.data import balanced_indices
from dl_roadmap.image.ssl_train import build_encoder, fine_tune, pretrain

logger = logging.getLogger(__name__)

# Published anchors (test accuracy, %) for rows whose protocol matches ours; see README.
ANCHORS = {"raw pixels": "about 84% with all 60k images (Fashion-MNIST scikit-learn benchmark, Xiao et al. 2017)"}


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Seeded train/val/test splits of Fashion-MNIST, and a summary with the class names."""
    splits, summary = split_mnist(raw, params)
    summary["class_names"] = list(raw.get("class_names") or [str(label) for label in range(10)])
    return splits, summary


def pretrain_method(
    splits: dict[str, np.ndarray], config: dict[str, Any], shared: dict[str, Any], trainer: dict[str, Any]
) -> tuple[ConvEncoder, pd.DataFrame]:
    """One method of ``ssl_train`` pretrained on the first ``shared["images"]`` training images.

    Returns:
        The frozen encoder and its history (one row per epoch).
    """
    return pretrain(config["kind"], config, splits, shared, trainer, f"self_supervised/{config['kind']}")


def collect_encoders(shared: dict[str, Any], *encoders_and_histories: Any) -> tuple[dict[str, nn.Module], pd.DataFrame]:
    """Every pretrained encoder by method, plus an untrained one of the same shape (``random``),
    and the histories in one table."""
    encoders = {"random": build_encoder(shared["encoder"], int(shared["fit"].get("seed", 0))).eval()}
    pairs = list(zip(encoders_and_histories[::2], encoders_and_histories[1::2]))
    histories = []
    for encoder, history in pairs:
        encoders[str(history["method"].iloc[0])] = encoder
        histories.append(history)
    return encoders, pd.concat(histories, ignore_index=True)


def frozen_evaluation(
    encoders: dict[str, nn.Module], splits: dict[str, np.ndarray], params: dict[str, Any], views: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Linear probe and kNN on frozen features of ``probe_train`` training images, scored on
    the test images; alignment and uniformity on ``geometry_images`` test images (the
    pretraining views). Raw pixels are a row too.

    Returns:
        One row per representation, and the same figures as MLflow metrics.
    """
    n = int(params["probe_train"])
    train_images, test_images = image_tensor(splits, "train")[:n], image_tensor(splits, "test")
    train_y, test_y = splits["train_labels"][:n], splits["test_labels"]
    rows, metrics = [], {}
    for name, encoder in [("raw pixels", None), *encoders.items()]:
        train_x, test_x = features(encoder, train_images), features(encoder, test_images)
        row = {"representation": name, "dimensions": int(train_x.shape[1]),
               "linear_probe": linear_probe(train_x, train_y, test_x, test_y, params["probe_c"], params["probe_max_iter"]),
               "knn": knn_accuracy(train_x, train_y, test_x, test_y, int(params["knn_k"])),
               **geometry(encoder, test_images[: int(params["geometry_images"])], views, int(params["seed"])),
               "anchor": ANCHORS.get(name, "")}
        rows.append(row)
        logger.info("frozen features: %s", row)
        key = name.replace(" ", "_")
        metrics.update({f"frozen.{key}.{k}": row[k] for k in ("linear_probe", "knn", "alignment", "uniformity")})
    return pd.DataFrame(rows), metrics_for_mlflow(metrics)


def embeddings(encoders: dict[str, nn.Module], splits: dict[str, np.ndarray], params: dict[str, Any]) -> dict[str, Any]:
    """2-D t-SNE maps of the first ``images`` test images for each of ``params["methods"]``
    (``raw pixels`` allowed), with their labels."""
    images = image_tensor(splits, "test")[: int(params["images"])]
    maps = {}
    for name in params["methods"]:
        x = features(None if name == "raw pixels" else encoders[name], images)
        maps[name] = tsne_2d(x, int(params["seed"]), float(params["perplexity"]), int(params["iterations"]))
    return {"maps": maps, "labels": splits["test_labels"][: len(images)]}


def fine_tune_classifier(
    encoders: dict[str, nn.Module], splits: dict[str, np.ndarray], params: dict[str, Any], shared: dict[str, Any],
    trainer: dict[str, Any],
) -> tuple[DigitClassifier, dict[str, dict[str, float]]]:
    """The ``params["encoder"]`` encoder fine-tuned on ``labels_per_class`` labelled images
    per class: the classifier the explain stage reads, and its test accuracy."""
    index = balanced_indices(splits["train_labels"], params["labels_per_class"], int(params["seed"]))
    images = image_tensor(splits, "train")[index]
    labels = torch.from_numpy(splits["train_labels"][index]).long()
    model, _ = fine_tune(encoders[params["encoder"]], shared["encoder"], images, labels, params["finetune"],
                         trainer, f"self_supervised/classifier_{params['encoder']}", int(params["seed"]))
    scores = classification_scores(model, image_tensor(splits, "test"), splits["test_labels"])
    logger.info("fine-tuned %s classifier: test accuracy %.4f", params["encoder"], scores["acc"])
    return model, metrics_for_mlflow({"classifier.test_acc": scores["acc"]})


def encoder_for_mlflow(encoders: dict[str, nn.Module], params: dict[str, Any]) -> nn.Module:
    """The encoder logged as the MLflow model: float images (N, 1, 28, 28) in [0, 1] ->
    features (N, latent_dim), the representation before the projection head."""
    return encoders[params["encoder"]].eval()
