"""Nodes of efficient_architectures: the published networks measured at ImageNet size, the
small ones trained on Fashion-MNIST and placed on one accuracy/cost plot, and MobileNet's
int8 weights per tensor against per channel. Plain functions of plain values."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.stages.compress.quantize import static_int8
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.classification import classifier_step_for
from dl_roadmap.image.data import image_tensor, labelled_splits, split_mnist
from dl_roadmap.image.efficient import IMAGENET, count_macs, imagenet_model, latency_ms, parameter_count
from dl_roadmap.pipelines.efficient_architectures.models import model_from_config
from dl_roadmap.pipelines.efficient_architectures.quantization import weight_sqnr_table

logger = logging.getLogger(__name__)

INPUT = (1, 28, 28)  # Fashion-MNIST images: (channels, height, width)

# Published figures at 224 x 224, 1,000 classes: parameters (reference implementation) and
# multiply-adds (paper, or the reference's own count where the paper gives none).
PUBLISHED = {
    "MobileNet V1": {"params": 4_231_976,
                     "params_source": "Keras MobileNet trainable; imgclsmob mobilenet_w1 (Howard et al. 2017: 4.2 M)",
                     "macs": 569e6, "macs_source": "Howard et al. 2017 (1.0 MobileNet-224): 569 M"},
    "MobileNet V2": {"params": 3_504_872, "params_source": "torchvision mobilenet_v2",
                     "macs": 300e6, "macs_source": "Sandler et al. 2018 (MobileNetV2 1.0, 224): 300 M"},
    "EfficientNet-B0": {"params": 5_288_548, "params_source": "torchvision efficientnet_b0; efficientnet-pytorch 0.7.1",
                        "macs": 390e6, "macs_source": "Tan & Le 2019 (B0): 0.39 B FLOPs = multiply-adds"},
    "SqueezeNet 1.0": {"params": 1_248_424, "params_source": "torchvision squeezenet1_0",
                       "macs": 819e6, "macs_source": "torchvision meta _ops 0.819 G (Iandola et al. 2016 give none)"},
    "SqueezeNet 1.1": {"params": 1_235_496, "params_source": "torchvision squeezenet1_1",
                       "macs": 349e6, "macs_source": "torchvision meta _ops 0.349 G (SqueezeNet repo: 2.4x less than 1.0)"},
}


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Seeded train/val/test splits of Fashion-MNIST, and a summary with the class names."""
    splits, summary = split_mnist(raw, params)
    summary["class_names"] = list(raw.get("class_names") or [str(label) for label in range(10)])
    return splits, summary


def imagenet_table() -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Every published network built at 3 x 224 x 224 with 1,000 classes: our parameter count
    and FlopCounterMode multiply-adds beside the published ones."""
    rows, metrics = [], {}
    for name in IMAGENET:
        model = imagenet_model(name)
        params, macs = parameter_count(model), count_macs(model, (3, 224, 224))
        published = PUBLISHED[name]
        rows.append({"network": name, "params": params, "published_params": published["params"],
                     "params_source": published["params_source"], "macs_millions": round(macs / 1e6, 1),
                     "published_macs_millions": published["macs"] / 1e6,
                     "macs_ratio": round(macs / published["macs"], 4), "macs_source": published["macs_source"]})
        key = name.lower().replace(" ", "_").replace("-", "_").replace(".", "_")
        metrics[f"imagenet/{key}/params"] = params
        metrics[f"imagenet/{key}/macs_millions"] = macs / 1e6
        logger.info("%s at 224x224: %s parameters (published %s), %.1f M MACs (published %.0f M)",
                    name, f"{params:,}", f"{published['params']:,}", macs / 1e6, published["macs"] / 1e6)
    return pd.DataFrame(rows), metrics_for_mlflow(metrics)


def train_member(
    splits: dict[str, np.ndarray], config: dict[str, Any], trainer: dict[str, Any], latency: dict[str, Any],
    threads: int | None, name: str,
) -> tuple[nn.Module, pd.DataFrame, dict[str, Any]]:
    """Train one small network (``config``: model and fit) and measure it. ``threads``: torch
    threads for the training (fit sets them for the rest of the run; None = the trainer's).

    Returns:
        The model (best validation epoch), its history, and its row: parameters, MACs and
        CPU latency at batch 1 on a 1 x 28 x 28 image, validation and test accuracy.
    """
    data = labelled_splits(splits)
    if threads:  # small convnets train faster on one thread of a busy 2-core CPU
        trainer = {**trainer, "num_threads": int(threads)}
    result = fit(model_from_config(config), data["train"], data["val"], step=classifier_step_for(config), name=name,
                 fit_params={**config["fit"], "monitor": "val_acc", "mode": "max"}, trainer_params=trainer)
    model = result.model.cpu().eval()
    row = {"network": name, "arch": config["model"]["arch"], "params": parameter_count(model),
           "macs": count_macs(model, INPUT),
           "latency_ms": latency_ms(model, INPUT, latency["repeats"], latency["warmup"], latency["threads"]),
           "epochs": len(result.history), "train_seconds": float(result.history["epoch_seconds"].sum())}
    for split in ("val", "test"):
        row[f"{split}_acc"] = classification_scores(model, image_tensor(splits, split), splits[f"{split}_labels"])["acc"]
    logger.info("%s: %.2f%% test accuracy, %s parameters, %.2f M MACs, %.2f ms", name, 100 * row["test_acc"],
                f"{row['params']:,}", row["macs"] / 1e6, row["latency_ms"])
    return model, result.history, row


def family_table(*rows: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """One row per trained network, with whether it is on the accuracy/MACs Pareto front (no
    other network is both at least as accurate and at most as costly, one of them strictly)."""
    table = pd.DataFrame(list(rows))
    table["pareto_macs"] = [_undominated(table, i, "macs") for i in range(len(table))]
    table["pareto_params"] = [_undominated(table, i, "params") for i in range(len(table))]
    metrics = {f"family/{r.network}/{k}": r[k] for _, r in table.iterrows()
               for k in ("test_acc", "val_acc", "params", "macs", "latency_ms")}
    return table, metrics_for_mlflow(metrics)


def _undominated(table: pd.DataFrame, i: int, cost: str) -> bool:
    me = table.iloc[i]
    better = (table["test_acc"] >= me["test_acc"]) & (table[cost] <= me[cost]) & (
        (table["test_acc"] > me["test_acc"]) | (table[cost] < me[cost]))
    return not bool(better.any())


def quantization_schemes(
    model: nn.Module, splits: dict[str, np.ndarray], params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, float]]]:
    """Static int8 of ``model`` with weights per tensor and per channel (activations per
    tensor, calibrated on ``calibration_size`` validation images), test accuracy of each
    beside fp32, and the per-layer weight SQNR of both schemes.

    Returns:
        The accuracy table (scheme, test_acc, drop in points), the per-layer table, metrics.
    """
    model = model.cpu().eval()
    images = image_tensor(splits, "val")[: int(params["calibration_size"])]
    calibration = list(images.split(int(params["batch_size"])))
    test_images, test_labels = image_tensor(splits, "test"), splits["test_labels"]
    fp32 = classification_scores(model, test_images, test_labels)["acc"]
    rows = [{"scheme": "fp32", "test_acc": fp32, "drop_points": 0.0}]
    for scheme in ("per_tensor", "per_channel"):
        quantized = static_int8(model, calibration, weights=scheme)
        acc = classification_scores(quantized, test_images, test_labels)["acc"]
        rows.append({"scheme": f"int8 {scheme.replace('_', ' ')}", "test_acc": acc,
                     "drop_points": round(100 * (fp32 - acc), 2)})
    layers = weight_sqnr_table(model)
    metrics = {f"quantization/{r['scheme'].replace(' ', '_')}/test_acc": r["test_acc"] for r in rows}
    for kind, group in layers.groupby("kind"):
        for column in ("sqnr_per_tensor_db", "sqnr_per_channel_db", "range_spread"):
            metrics[f"quantization/{kind}/{column}_median"] = float(group[column].median())
    return pd.DataFrame(rows), layers, metrics_for_mlflow(metrics)


def log_model(model: nn.Module) -> nn.Module:
    """The trained MobileNet, handed to MLflow as a PyTorch model: input float images
    (N, 1, 28, 28) in [0, 1], output class logits (N, 10)."""
    return model.cpu().eval()

