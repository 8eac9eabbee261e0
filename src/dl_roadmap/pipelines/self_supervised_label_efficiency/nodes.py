"""Nodes of self_supervised_label_efficiency: what is each pretraining worth per label?

With n labelled images per class (n in 10, 100, 1,000, all), the same classifier (encoder +
head) is fine-tuned from every pretrained encoder of the self_supervised run and from a
fresh encoder of the same shape, for the same number of images seen, with and without
augmentation, over several seeds where the labelled set is small (each seed draws its own
labelled images and its own initialisation); all are scored on the 10,000 test images.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.image.data import image_tensor, split_mnist
from dl_roadmap.image.data import balanced_indices
from dl_roadmap.image.ssl_train import fine_tune

logger = logging.getLogger(__name__)

SCRATCH = "scratch"


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> dict[str, np.ndarray]:
    """The seeded split of the self_supervised run (same ``data`` block), so the labelled
    images are drawn from the images the encoders were pretrained on, never from the test set."""
    return split_mnist(raw, params)[0]


def sweep(
    encoders: dict[str, nn.Module], splits: dict[str, np.ndarray], params: dict[str, Any], encoder_params: dict[str, Any],
    trainer: dict[str, Any],
) -> pd.DataFrame:
    """Test accuracy of every (labels per class, recipe, encoder, seed).

    Args:
        encoders: {method: frozen ConvEncoder} from the self_supervised run.
        params: ``encoders`` (method names and ``scratch``), ``budgets`` (labels_per_class,
            images_seen, seeds), ``recipes`` (name -> augment, lr_scale), ``finetune``.
        encoder_params: the encoder shape (``self_supervised.pretrain.encoder``) for scratch.
    """
    missing = [name for name in params["encoders"] if name != SCRATCH and name not in encoders]
    if missing:
        raise ValueError(f"self_supervised_label_efficiency.encoders: {missing} not in the self_supervised run's "
                         f"encoders {sorted(encoders)}; run `kedro run --pipeline=self_supervised` first")
    images, test_images = image_tensor(splits, "train"), image_tensor(splits, "test")
    labels = torch.from_numpy(splits["train_labels"]).long()
    rows = []
    for budget in params["budgets"]:
        for seed in range(int(budget["seeds"])):
            index = torch.from_numpy(balanced_indices(splits["train_labels"], budget["labels_per_class"], seed))
            for recipe_name, recipe in params["recipes"].items():
                config = {**params["finetune"], "augment": recipe.get("augment"), "images_seen": budget["images_seen"]}
                config["fit"] = {**config["fit"], "optimizer": {**config["fit"]["optimizer"], "lr_scale": recipe.get("lr_scale")}}
                for name in params["encoders"]:
                    model, seconds = fine_tune(None if name == SCRATCH else encoders[name], encoder_params,
                                               images[index], labels[index], config, trainer,
                                               f"label_efficiency/{budget['labels_per_class']}/{recipe_name}/{name}/{seed}", seed)
                    accuracy = classification_scores(model, test_images, splits["test_labels"])["acc"]
                    rows.append({"labels_per_class": str(budget["labels_per_class"]), "n_labels": len(index),
                                 "recipe": recipe_name, "encoder": name, "seed": seed, "test_accuracy": accuracy,
                                 "images_seen": budget["images_seen"], "seconds": round(seconds, 1)})
                    logger.info("label efficiency: %s", rows[-1])
    return pd.DataFrame(rows)


def summary_table(runs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Mean and standard deviation over seeds (%), one row per (labels per class, recipe,
    encoder), with the gain over scratch in points; and the means as MLflow metrics."""
    grouped = runs.groupby(["labels_per_class", "recipe", "encoder"], sort=False)["test_accuracy"]
    table = pd.DataFrame({"mean": grouped.mean() * 100, "std": grouped.std(ddof=0) * 100,
                          "seeds": grouped.count()}).reset_index()
    scratch = table[table["encoder"] == SCRATCH].set_index(["labels_per_class", "recipe"])["mean"]
    table["gain_over_scratch"] = [row["mean"] - scratch.get((row["labels_per_class"], row["recipe"]), np.nan)
                                  for _, row in table.iterrows()]
    metrics = {f"{row['labels_per_class']}_per_class.{row['recipe']}.{row['encoder']}": row["mean"] / 100
               for _, row in table.iterrows()}
    return table, metrics_for_mlflow(metrics)


def curves_figure(table: pd.DataFrame) -> Figure:
    """Test accuracy against labels per class, one panel per recipe, one line per encoder
    (error bars: standard deviation over seeds)."""
    recipes = list(dict.fromkeys(table["recipe"]))
    figure = Figure(figsize=(6 * len(recipes), 4.5), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(recipes), sharey=True))
    order = list(dict.fromkeys(table["labels_per_class"]))
    for ax, recipe in zip(axes, recipes):
        for encoder, rows in table[table["recipe"] == recipe].groupby("encoder", sort=False):
            rows = rows.set_index("labels_per_class").loc[[b for b in order if b in set(rows["labels_per_class"])]]
            ax.errorbar(range(len(rows)), rows["mean"], yerr=rows["std"], marker="o", capsize=3, label=encoder,
                        linestyle="--" if encoder == SCRATCH else "-")
        ax.set(xticks=range(len(order)), xticklabels=order, xlabel="labels per class", title=f"recipe: {recipe}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy (%)")
    axes[-1].legend(fontsize=8)
    return figure
