"""Nodes of activations: the same deep MLP under each activation -> compare -> report.

Ingest, the (image, label) datasets, the classification step and the MLP itself
(``DeepMLP``) are the image library's (dl_roadmap.image); what is new here is the
comparison and what it measures.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dl_roadmap.core.devices import inference_device
from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.plotting import line_plot, training_curves
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.blocks import DeepMLP
from dl_roadmap.image.classification import classification_step
from dl_roadmap.image.data import image_tensor, labelled_split

logger = logging.getLogger(__name__)

# "Dead" means the unit outputs 0 for every input and so gets no gradient: true of a ReLU
# unit whose pre-activation is never positive. A Leaky ReLU unit in that state still passes
# a gradient a*z, so for it the same count says "never in its linear regime", not dead.
DEAD_UNIT_ACTIVATIONS = ("relu", "leaky_relu")


# --- measure ------------------------------------------------------------------------------


@torch.no_grad()
def layer_statistics(model: DeepMLP, inputs: torch.Tensor) -> pd.DataFrame:
    """What each hidden layer does to a fixed batch (model in eval mode, no dropout).

    Args:
        model: the MLP.
        inputs: the fixed batch (N, ...).
    Returns:
        One row per hidden layer (``layer`` = 1..depth): ``mean`` and ``std`` of the
        activation outputs over all examples and units (a self-normalising net keeps them
        near 0 and 1), ``pre_mean``/``pre_std`` of the pre-activations, and
        ``dead_fraction``, the share of units whose pre-activation is <= 0 on every input.
    """
    captured: list[tuple[torch.Tensor, torch.Tensor]] = []
    hooks = [layer.register_forward_hook(lambda module, args, out: captured.append((args[0], out)))
             for layer in model.activation_layers()]
    was_training = model.training
    try:
        model.eval()(inputs)
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    rows = []
    for layer, (pre, post) in enumerate(captured, start=1):
        rows.append({
            "layer": layer,
            "mean": float(post.mean()),
            "std": float(post.std()),
            "pre_mean": float(pre.mean()),
            "pre_std": float(pre.std()),
            "dead_fraction": float((pre <= 0).all(dim=0).float().mean()),
        })
    return pd.DataFrame(rows)


# --- train --------------------------------------------------------------------------------


# What a model block or a variant may set: DeepMLP's arguments (the seed is fit's).
MODEL_KEYS = frozenset(inspect.signature(DeepMLP).parameters) - {"seed"}


def variant_config(model: dict[str, Any], variant: dict[str, Any], name: str = "?") -> dict[str, Any]:
    """The shared model block with one variant's settings over it (activation, init...)."""
    if "activation" not in variant:
        raise KeyError(f"activations.variants.{name}: each variant needs an 'activation', got {variant!r}")
    config = {**model, **variant}
    unknown = sorted(set(config) - MODEL_KEYS)
    if unknown:
        where = "variants." + name if set(unknown) & set(variant) else "model"
        raise ValueError(f"activations.{where}: unknown key(s) {unknown}; DeepMLP takes {sorted(MODEL_KEYS)}")
    return config


def train_variants(
    splits: dict[str, np.ndarray],
    variants: dict[str, dict[str, Any]],
    model: dict[str, Any],
    fit_params: dict[str, Any],
    statistics: dict[str, Any],
    trainer: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train one MLP per variant through ``core.training.fit`` with one seed, one data set
    and one budget, and measure each at initialisation and after training.

    Args:
        splits: the MNIST splits (uint8 images, labels; ``image.data.split_mnist``).
        variants: name -> settings over ``model`` (``activation``, optionally ``init``,
            ``negative_slope``...); the name prefixes its per-epoch MLflow curves.
        model: DeepMLP arguments every variant shares (depth, width, dropout).
        fit_params: core.training.fit parameters, the same for every variant.
        statistics: ``batch_size``: validation images in the fixed batch.
        trainer: the shared trainer block.
    Returns:
        Per-epoch histories (a ``variant`` column), per-layer statistics (``variant``,
        ``phase`` = init | trained) and one row of scores per variant.
    """
    if not variants:
        raise ValueError("activations.variants: name at least one variant")
    train, val = labelled_split(splits, "train"), labelled_split(splits, "val")
    fixed_batch = image_tensor(splits, "val")[: int(statistics["batch_size"])]
    test_images = image_tensor(splits, "test")
    device = inference_device(trainer)
    seed = int(fit_params.get("seed", 0))
    histories, stats, scores = [], [], []
    for name, settings in variants.items():
        config = variant_config(model, settings, name)
        network = DeepMLP(**config, seed=seed)
        stats.append(layer_statistics(network, fixed_batch).assign(variant=name, phase="init"))
        result = fit(network, train, val, step=classification_step, name=name,
                     fit_params=fit_params, trainer_params=trainer)
        trained = layer_statistics(result.model, fixed_batch)
        stats.append(trained.assign(variant=name, phase="trained"))
        histories.append(result.history.assign(variant=name))
        row = {
            "variant": name, "activation": network.activation, "init": network.init,
            "dropout": f"{'AlphaDropout' if network.activation == 'selu' else 'Dropout'}({config.get('dropout', 0.0)})",
            **{f"test_{key}": value for key, value in
               classification_scores(result.model, test_images, splits["test_labels"], device).items()},
            "best_val_acc": float(result.history["val_acc"].max()),
            "epochs": len(result.history),
            # The median ignores the first epoch's one-off start-up costs.
            "seconds_per_epoch": float(result.history["epoch_seconds"].median()),
            "train_seconds": float(result.seconds),
        }
        scores.append(row)
        logger.info("%s: test accuracy %.4f, %.2f s/epoch", name, row["test_acc"], row["seconds_per_epoch"])
    order = ["variant", "phase", "layer", "mean", "std", "pre_mean", "pre_std", "dead_fraction"]
    return (pd.concat(histories, ignore_index=True), pd.concat(stats, ignore_index=True)[order], pd.DataFrame(scores))


# --- report -------------------------------------------------------------------------------


def summarize_variants(
    scores: pd.DataFrame, layer_stats: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """The results table (one row per variant) and its figures as MLflow metrics.

    Besides the scores: how far the activations are from mean 0 / std 1 through depth, at
    initialisation and after training (the largest |mean| and |std - 1| over layers: small
    for SELU at initialisation), the last layer's std at initialisation, and, for ReLU and Leaky ReLU, the dead-unit fractions (mean
    over layers).
    """
    rows = []
    for _, score in scores.iterrows():
        own = layer_stats[layer_stats["variant"] == score["variant"]]
        init, trained = own[own["phase"] == "init"], own[own["phase"] == "trained"]
        # Dead units only mean something for the ReLU family (left empty for the others).
        relu_family = score["activation"] in DEAD_UNIT_ACTIVATIONS
        rows.append({
            **score.to_dict(),
            "last_layer_std_init": float(init.sort_values("layer")["std"].iloc[-1]),
            "max_abs_mean_init": float(init["mean"].abs().max()),
            "max_abs_std_minus_1_init": float((init["std"] - 1).abs().max()),
            "max_abs_mean_trained": float(trained["mean"].abs().max()),
            "max_abs_std_minus_1_trained": float((trained["std"] - 1).abs().max()),
            "dead_fraction_init": float(init["dead_fraction"].mean()) if relu_family else np.nan,
            "dead_fraction_trained": float(trained["dead_fraction"].mean()) if relu_family else np.nan,
        })
    table = pd.DataFrame(rows).sort_values("test_acc", ascending=False, ignore_index=True)
    numeric = table.drop(columns=["variant", "activation", "init", "dropout"])
    metrics = metrics_for_mlflow({
        f"{variant}.{column}": value
        for variant, values in zip(table["variant"], numeric.to_dict("records"))
        for column, value in values.items()
    })
    return table, metrics


def curves_figure(histories: pd.DataFrame) -> Figure:
    """Loss (top) and accuracy (bottom) per epoch, one column per variant."""
    return training_curves({name: group.drop(columns="variant") for name, group in histories.groupby("variant", sort=False)})


def depth_profile_figure(layer_stats: pd.DataFrame) -> Figure:
    """Mean (top) and std (bottom) of each layer's activations on the fixed batch, at
    initialisation (left) and after training (right), one line per variant."""
    figure = Figure(figsize=(11, 7.5), layout="constrained")
    axes = figure.subplots(2, 2, sharex=True, sharey="row")
    for col, phase in enumerate(("init", "trained")):
        frame = layer_stats[layer_stats["phase"] == phase]
        for index, (variant, group) in enumerate(frame.groupby("variant", sort=False)):
            group = group.sort_values("layer")
            for row, stat in enumerate(("mean", "std")):
                axes[row, col].plot(group["layer"], group[stat], marker="o", markersize=3,
                                    color=f"C{index}", label=variant)
        axes[0, col].set(title=f"{'at initialisation' if phase == 'init' else 'after training'}")
        axes[1, col].set(xlabel="hidden layer")
    for row, (stat, target) in enumerate((("mean", 0.0), ("std", 1.0))):
        axes[row, 0].set(ylabel=f"activation {stat}")
        for ax in axes[row]:
            # SELU's fixed point: mean 0, std 1.
            ax.axhline(target, color="grey", linestyle=":", linewidth=1)
            ax.grid(alpha=0.3)
    axes[0, 1].legend(fontsize=8)
    figure.suptitle("activations through depth on a fixed batch of validation images")
    return figure


def dead_units_figure(layer_stats: pd.DataFrame, scores: pd.DataFrame) -> Figure:
    """Share of units whose pre-activation is <= 0 on every input of the fixed batch, per
    layer, for the ReLU-family variants, at initialisation and after training."""
    relu_family = scores.loc[scores["activation"].isin(DEAD_UNIT_ACTIVATIONS), "variant"]
    frame = layer_stats[layer_stats["variant"].isin(relu_family)].copy()
    if frame.empty:
        figure = Figure(figsize=(6, 2))
        figure.text(0.5, 0.5, "no ReLU or Leaky ReLU variant in this run", ha="center", va="center")
        return figure
    frame["model"] = frame["variant"] + " (" + frame["phase"] + ")"
    return line_plot(frame, x="layer", y="dead_fraction", hue="model",
                     title="units never positive on the fixed batch (dead, for ReLU)",
                     ylabel="fraction of units")
