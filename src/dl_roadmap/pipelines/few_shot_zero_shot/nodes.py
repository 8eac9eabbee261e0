"""Nodes of few_shot_zero_shot: Fashion-MNIST, an attribute table of its ten classes, a
dual encoder trained on seven classes and tested on all ten (generalized zero-shot).
Plain functions of plain values."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch

from dl_roadmap.core.inference import predict
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.data import image_tensor, split_mnist
from dl_roadmap.pipelines.few_shot_zero_shot.models import (DualEncoder, ausuc, gzsl_scores, seen_only_step,
                                                            seen_unseen_curve)

logger = logging.getLogger(__name__)


def attribute_matrix(table: dict[str, Any], class_names: list[str]) -> np.ndarray:
    """The table ``{names: [...], classes: {class name: [its attributes]}}`` as a 0/1 matrix
    (classes, attributes) in label order; a missing class, an unknown attribute or two classes
    with the same description fail naming them."""
    names, rows = table["names"], table["classes"]
    if set(rows) != set(class_names):
        raise ValueError(f"few_shot_zero_shot.attributes.classes: expected exactly {class_names}, "
                         f"missing {sorted(set(class_names) - set(rows))}, unknown {sorted(set(rows) - set(class_names))}")
    matrix = np.zeros((len(class_names), len(names)), dtype=np.float32)
    for i, name in enumerate(class_names):
        unknown = set(rows[name]) - set(names)
        if unknown:
            raise ValueError(f"few_shot_zero_shot.attributes.classes.{name}: unknown attributes {sorted(unknown)}")
        matrix[i, [names.index(a) for a in rows[name]]] = 1.0
    for i in range(len(class_names)):
        for j in range(i):
            if np.array_equal(matrix[i], matrix[j]):
                raise ValueError(f"few_shot_zero_shot.attributes: {class_names[j]!r} and {class_names[i]!r} "
                                 "have the same description; zero-shot cannot tell them apart")
    return matrix


def ingest(raw: dict[str, Any], params: dict[str, Any], attributes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Splits of Fashion-MNIST where training and validation keep the seen classes only, the
    test split keeps all ten; the attribute matrix; a summary."""
    splits, summary = split_mnist(raw, params["data"])
    class_names = list(raw.get("class_names") or [str(i) for i in range(10)])
    unseen = sorted(params["unseen"])
    seen = [c for c in range(len(class_names)) if c not in unseen]
    for split in ("train", "val"):
        keep = np.isin(splits[f"{split}_labels"], seen)
        splits[f"{split}_images"], splits[f"{split}_labels"] = splits[f"{split}_images"][keep], splits[f"{split}_labels"][keep]
    data = {**splits, "attributes": attribute_matrix(attributes, class_names), "attribute_names": attributes["names"],
            "class_names": class_names, "seen": seen, "unseen": unseen}
    summary.update({"seen": [class_names[c] for c in seen], "unseen": [class_names[c] for c in unseen],
                    "train_size_seen_only": int(len(splits["train_labels"])),
                    "val_size_seen_only": int(len(splits["val_labels"])), "attributes": len(attributes["names"])})
    logger.info("Zero-shot: seen %s, unseen %s", summary["seen"], summary["unseen"])
    return data, summary


def train_model(data: dict[str, Any], config: dict[str, Any], trainer: dict[str, Any]) -> tuple[DualEncoder, pd.DataFrame]:
    """The dual encoder trained on the seen classes (softmax over seen classes only), keeping
    the epoch with the lowest validation loss (validation images: seen classes only)."""
    from torch.utils.data import TensorDataset

    def dataset(split: str) -> TensorDataset:
        return TensorDataset(image_tensor(data, split), torch.from_numpy(data[f"{split}_labels"]).long())

    model = DualEncoder(data["attributes"], data["seen"], **config["model"])
    result = fit(model, dataset("train"), dataset("val"), step=seen_only_step, name="few_shot_zero_shot",
                 fit_params={**config["fit"], "monitor": "val_loss", "mode": "min"}, trainer_params=trainer)
    return result.model.eval(), result.history


def evaluate(model: DualEncoder, data: dict[str, Any], params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Generalized zero-shot scores on the test split (all ten classes searched).

    Returns:
        The results table (γ = 0; the best harmonic mean along the seen-unseen curve, an
        upper bound since γ is picked on the test set; AUSUC), the curve, and the γ = 0
        predictions (for the confusion matrix).
    """
    scores = np.asarray(predict(model, image_tensor(data, "test")))
    labels, seen, unseen = data["test_labels"], data["seen"], data["unseen"]
    plain = gzsl_scores(scores, labels, seen, unseen)
    gammas, acc_s, acc_u = seen_unseen_curve(scores, labels, seen, unseen, params["curve_points"])
    h = np.where(acc_s + acc_u > 0, 2 * acc_s * acc_u / np.maximum(acc_s + acc_u, 1e-12), 0)
    best = int(np.argmax(h))
    rows = [{"setting": "gzsl, no calibration (gamma = 0)", "gamma": 0.0, **plain},
            {"setting": "gzsl, calibrated stacking, best gamma on test (upper bound)", "gamma": float(gammas[best]),
             **gzsl_scores(scores, labels, seen, unseen, float(gammas[best]))}]
    table = pd.DataFrame(rows)
    for column in ("acc_seen", "acc_unseen", "harmonic_mean", "zsl_unseen"):
        table[column] *= 100
    table["ausuc"] = 100 * ausuc(acc_s, acc_u)
    table["chance_zsl_unseen"] = 100 / len(unseen)
    curve = pd.DataFrame({"gamma": gammas, "acc_seen": 100 * acc_s, "acc_unseen": 100 * acc_u, "harmonic_mean": 100 * h})
    return table, curve, scores.argmax(1)


def summary_metrics(results: pd.DataFrame) -> dict[str, dict[str, float]]:
    """acc_seen, acc_unseen, harmonic_mean, zsl_unseen (γ = 0), calibrated_* (best γ) and ausuc."""
    plain, calibrated = results.iloc[0], results.iloc[1]
    metrics = {k: plain[k] for k in ("acc_seen", "acc_unseen", "harmonic_mean", "zsl_unseen", "ausuc")}
    metrics.update({f"calibrated_{k}": calibrated[k] for k in ("acc_seen", "acc_unseen", "harmonic_mean", "gamma")})
    return metrics_for_mlflow(metrics)


def log_model(model: DualEncoder) -> DualEncoder:
    """The dual encoder for MLflow: float images (N, 1, 28, 28) in [0, 1] -> scores (N, 10) over
    all ten classes (label order); the attribute table is inside (``model.attributes``)."""
    return model.eval()
