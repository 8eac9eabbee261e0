"""Nodes of mnist_label_efficiency: how much does autoencoder pretraining buy per label?

For each budget of labels per class and each fine-tuning recipe, the same classifier is
trained twice, once on the pretrained encoder and once on a fresh one, for the same
number of images seen; both are scored on the full test set.
"""

from __future__ import annotations

import logging
import math
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch.utils.data import TensorDataset

from dl_roadmap.core.devices import inference_device
from dl_roadmap.core.inference import predict
from dl_roadmap.core.plotting import line_plot
from dl_roadmap.core.training import fit
from dl_roadmap.image.autoencoder import ConvAutoencoder, build_classifier
from dl_roadmap.image.classification import classification_step
from dl_roadmap.image.data import balanced_indices, image_tensor

logger = logging.getLogger(__name__)


def label_efficiency_sweep(
    autoencoder: ConvAutoencoder, splits: dict[str, np.ndarray], params: dict[str, Any], trainer: dict[str, Any]
) -> pd.DataFrame:
    """Test accuracy for every (labels per class, recipe, pretrained or scratch).

    Args:
        params: the ``sweep`` block: ``labels_per_class`` (list, may end with "all"),
            ``images_seen`` (how many training images each run sees, per budget),
            ``recipes`` (name -> augment, lr_scale, ...), ``classifier`` (head and fit
            parameters), ``seed``.
    """
    images, test_images = image_tensor(splits, "train"), image_tensor(splits, "test")
    labels = torch.from_numpy(splits["train_labels"]).long()
    device = inference_device(trainer)
    rows = []
    for per_class, seen in zip(params["labels_per_class"], params["images_seen"]):
        subset = balanced_indices(splits["train_labels"], per_class, params["seed"],
                                  key="mnist_label_efficiency.sweep.labels_per_class", unit="digit")
        # Repeat a small labelled set so every budget trains for a similar number of steps
        # without paying per-epoch overhead hundreds of times.
        repeats = max(1, math.ceil(int(seen) / len(subset)))
        index = torch.from_numpy(np.tile(subset, repeats))
        data = TensorDataset(images[index], labels[index])
        for recipe_name, recipe in params["recipes"].items():
            fit_params = {**params["classifier"]["fit"], "max_epochs": 1}
            fit_params["optimizer"] = {**fit_params["optimizer"], "lr_scale": recipe.get("lr_scale")}
            for pretrained in (True, False):
                model = build_classifier(autoencoder, params["classifier"], pretrained=pretrained)
                result = fit(
                    model, data, None, step=partial(classification_step, augment=recipe.get("augment")),
                    name=f"label_efficiency/{per_class}/{recipe_name}/{'pretrained' if pretrained else 'scratch'}",
                    fit_params=fit_params, trainer_params=trainer,
                )
                predicted = predict(result.model, test_images, device).argmax(1)
                accuracy = float((predicted == splits["test_labels"]).mean())
                rows.append({
                    "labels_per_class": per_class, "n_labels": len(subset), "recipe": recipe_name,
                    "encoder": "AE-pretrained" if pretrained else "from scratch",
                    "test_accuracy": accuracy, "images_seen": len(index), "seconds": round(result.seconds, 1),
                })
                logger.info("label efficiency: %s", rows[-1])
    return pd.DataFrame(rows)


def label_efficiency_table(results: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Wide table (one row per budget and recipe, pretrained vs scratch and the gain),
    and the same figures as MLflow metrics."""
    wide = results.pivot_table(index=["labels_per_class", "recipe"], columns="encoder", values="test_accuracy", sort=False)
    wide = wide.reset_index()
    wide["gain_points"] = 100 * (wide["AE-pretrained"] - wide["from scratch"])
    metrics = {}
    for _, row in wide.iterrows():
        key = f"{row['labels_per_class']}_per_class.{row['recipe']}"
        metrics[f"{key}.pretrained_accuracy"] = {"value": float(row["AE-pretrained"]), "step": 0}
        metrics[f"{key}.scratch_accuracy"] = {"value": float(row["from scratch"]), "step": 0}
    return wide, metrics


def label_efficiency_figure(results: pd.DataFrame) -> Figure:
    """Test accuracy against labels per class, one line per encoder and recipe."""
    frame = results.assign(line=results["encoder"] + " / " + results["recipe"])
    frame["labels per class"] = frame["n_labels"] / 10
    return line_plot(frame, "labels per class", "test_accuracy", "line", "label efficiency: pretrained vs scratch",
                     logx=True, ylabel="test accuracy")
