"""Nodes of optimization: the same MLP under each optimizer, a learning-rate sweep,
gradients through depth and through time (with and without clipping), moving averages.

MNIST ingest, its (image, label) datasets, the classification step and the MLP
(DeepMLP) are the image library's (dl_roadmap.image). Every training goes
through ``core.training.fit``; what happens at each step is recorded by the callbacks in
callbacks.py. Plots are in figures.py.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit, fit_config
from dl_roadmap.image.blocks import DeepMLP
from dl_roadmap.image.classification import classification_step
from dl_roadmap.image.data import labelled_splits
from dl_roadmap.pipelines.optimization.averages import exponential_moving_average, simple_moving_average
from dl_roadmap.pipelines.optimization.callbacks import StepRecorder, WeightEMA
from dl_roadmap.pipelines.optimization.models import PlainDeepNet, SequenceRNN

logger = logging.getLogger(__name__)

SEQUENCE_DEFAULTS = {"train_size": 2000, "val_size": 500, "test_size": 1000, "length": 50, "classes": 4,
                     "signal_steps": 3, "noise": 0.5, "seed": 0}
SMOOTHING_DEFAULTS = {"variant": "sgd", "sma_window": 50, "ema_beta": 0.98}


# --- shared helpers -------------------------------------------------------------------------


def variant_fit(fit_params: dict[str, Any], overrides: dict[str, Any], n_train: int, where: str) -> dict[str, Any]:
    """The shared fit parameters with one variant's over them (top level: an ``optimizer``
    block replaces the shared one whole). ``batch_size: full`` is the whole training set,
    i.e. full-batch gradient descent. Errors name the variant's parameter path."""
    merged = {**fit_params, **(overrides or {})}
    if merged.get("batch_size") == "full":
        merged["batch_size"] = int(n_train)
    try:
        return fit_config(merged)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from error


def short_name(optimizer: dict[str, Any]) -> str:
    """``dl_roadmap...optimizers.Adam`` -> ``Adam``."""
    return str(optimizer.get("name", "?")).rsplit(".", 1)[-1]


def first_at_or_below(values: pd.Series, seconds: pd.Series, target: float) -> tuple[float, float]:
    """(epochs, wall seconds) until ``values`` first reaches ``target`` (NaN if never)."""
    hits = np.flatnonzero(values.to_numpy() <= target)
    if not len(hits):
        return math.nan, math.nan
    return float(hits[0] + 1), float(seconds.iloc[hits[0]])


# --- ingest: a long-memory sequence task ----------------------------------------------------


def make_sequences(params: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Sequences whose class is written only in their first steps.

    x_t ∈ R^classes is N(0, noise²) at every step; during the first ``signal_steps`` steps
    the one-hot code of the class is added. The answer is read after the last step, so
    the network must carry it through ``length`` noisy steps: the gradient that teaches
    it flows back through all of them.

    Returns:
        ``{split}_x`` (N, length, classes) float and ``{split}_y`` (N,) long for train, val, test.
    """
    p = over_defaults(params, SEQUENCE_DEFAULTS, "optimization.sequences")
    if not 1 <= int(p["signal_steps"]) < int(p["length"]):
        raise ValueError(f"optimization.sequences.signal_steps: between 1 and length - 1, got {p['signal_steps']!r}")
    if int(p["classes"]) < 2:
        raise ValueError(f"optimization.sequences.classes: at least 2, got {p['classes']!r}")
    generator = torch.Generator().manual_seed(int(p["seed"]))
    data = {}
    for split in ("train", "val", "test"):
        n = int(p[f"{split}_size"])
        labels = torch.randint(0, int(p["classes"]), (n,), generator=generator)
        x = torch.randn(n, int(p["length"]), int(p["classes"]), generator=generator) * float(p["noise"])
        x[:, : int(p["signal_steps"])] += F.one_hot(labels, int(p["classes"])).float()[:, None, :]
        data[f"{split}_x"], data[f"{split}_y"] = x, labels
    return data


# --- 1. optimizers compared -----------------------------------------------------------------


def compare_optimizers(
    splits: dict[str, np.ndarray],
    variants: dict[str, dict[str, Any]],
    model: dict[str, Any],
    fit_params: dict[str, Any],
    weight_ema: dict[str, Any],
    target_loss: float,
    trainer: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train the same MLP (same seed, data and epochs) with each optimizer.

    Args:
        splits: the MNIST splits (``image.data.split_mnist``).
        variants: name -> fit overrides (``optimizer``, and e.g. ``batch_size: full`` and
            ``max_epochs`` for full-batch gradient descent); the name prefixes its MLflow curves.
        model: DeepMLP arguments.
        fit_params: core.training.fit parameters shared by every variant.
        weight_ema: ``beta`` of the weight average kept alongside each run.
        target_loss: the training loss whose first crossing is timed (epochs, seconds).
        trainer: the shared trainer block.
    Returns:
        Per-epoch histories (``variant``, ``wall_seconds`` = cumulative epoch time), per-step
        log (loss, gradient norm), per-epoch raw-vs-averaged validation scores, and one
        row of scores per variant (test scores of the last weights and of their average).
    """
    if not variants:
        raise ValueError("optimization.compare.variants: name at least one optimizer")
    data = labelled_splits(splits)
    val_images, val_labels = data["val"].tensors
    test_images, test_labels = data["test"].tensors
    histories, steps, averages, scores = [], [], [], []
    for name, overrides in variants.items():
        config = variant_fit(fit_params, overrides, len(data["train"]), f"optimization.compare.variants.{name}")
        network = DeepMLP(**model, seed=int(config["seed"]))
        recorder, ema = StepRecorder(), WeightEMA(float(weight_ema["beta"]), val_images, val_labels)
        result = fit(network, data["train"], data["val"], step=classification_step, name=name,
                     fit_params=config, trainer_params=trainer, callbacks=[recorder, ema])
        history = result.history.assign(variant=name, wall_seconds=result.history["epoch_seconds"].cumsum())
        histories.append(history)
        steps.append(recorder.frame().assign(variant=name))
        averages.append(ema.frame().assign(variant=name))
        # The last weights, not fit's best-epoch ones: what the average is compared against.
        network.load_state_dict(ema.raw_state)
        raw = classification_scores(network, test_images, test_labels)
        network.load_state_dict(ema.ema_state)
        averaged = classification_scores(network, test_images, test_labels)
        epochs_to, seconds_to = first_at_or_below(history["train_loss"], history["wall_seconds"], target_loss)
        scores.append({
            "variant": name, "optimizer": short_name(config["optimizer"]), "lr": float(config["optimizer"]["lr"]),
            "batch_size": int(config["batch_size"]), "epochs": len(history), "steps": len(recorder.rows),
            "final_train_loss": float(history["train_loss"].iloc[-1]),
            "best_val_acc": float(history["val_acc"].max()),
            "test_acc": raw["acc"], "test_loss": raw["loss"],
            "test_acc_weight_ema": averaged["acc"], "test_loss_weight_ema": averaged["loss"],
            "epochs_to_target_loss": epochs_to, "seconds_to_target_loss": seconds_to,
            "train_seconds": float(history["epoch_seconds"].sum()),
        })
        logger.info("%s: test accuracy %.4f (weight EMA %.4f), %.1f s", name, raw["acc"], averaged["acc"],
                    scores[-1]["train_seconds"])
    return (pd.concat(histories, ignore_index=True), pd.concat(steps, ignore_index=True),
            pd.concat(averages, ignore_index=True), pd.DataFrame(scores))


def sweep_learning_rates(
    splits: dict[str, np.ndarray],
    variants: dict[str, dict[str, Any]],
    sweep: dict[str, Any],
    model: dict[str, Any],
    fit_params: dict[str, Any],
    trainer: dict[str, Any],
) -> pd.DataFrame:
    """Each optimizer of ``sweep.variants`` at its comparison rate times each of
    ``sweep.lr_factors``, on the first ``sweep.train_limit`` images with ``sweep.fit``
    over the shared fit parameters (a smaller budget).

    Returns:
        One row per (variant, lr): the final training loss (NaN if it diverged), the last
        and best validation accuracy, and ``diverged`` (loss not finite or above chance
        level ln 10).
    """
    p = over_defaults(sweep, {"variants": [], "lr_factors": [], "train_limit": None, "fit": {}},
                      "optimization.lr_sweep")
    unknown = sorted(set(p["variants"]) - set(variants))
    if unknown:
        raise ValueError(f"optimization.lr_sweep.variants: {unknown} are not in optimization.compare.variants")
    if not p["variants"] or not p["lr_factors"]:
        raise ValueError("optimization.lr_sweep: give at least one of `variants` and of `lr_factors`")
    data = labelled_splits(splits)
    train = data["train"]
    if p["train_limit"]:
        train = torch.utils.data.Subset(train, range(min(int(p["train_limit"]), len(train))))
    runs = [(name, factor) for name in p["variants"] for factor in p["lr_factors"]]
    rows = []
    for name, factor in tqdm(runs, desc="learning-rate sweep"):
        # The sweep's budget wins over the variant's own (e.g. gradient descent's epochs).
        base = variant_fit(fit_params, {**variants[name], **p["fit"]}, len(train), f"optimization.lr_sweep ({name})")
        lr = float(base["optimizer"]["lr"]) * float(factor)
        config = {**base, "optimizer": {**base["optimizer"], "lr": lr}}
        result = fit(DeepMLP(**model, seed=int(config["seed"])), train, data["val"], step=classification_step,
                     name=f"sweep_{name}_lr{lr:.3g}", fit_params=config, trainer_params=trainer)
        final_loss = float(result.history["train_loss"].iloc[-1])
        diverged = not math.isfinite(final_loss) or final_loss > math.log(10)
        rows.append({"variant": name, "optimizer": short_name(config["optimizer"]), "lr_factor": float(factor),
                     "lr": lr, "final_train_loss": final_loss if math.isfinite(final_loss) else math.nan,
                     "final_val_acc": float(result.history["val_acc"].iloc[-1]),
                     "best_val_acc": float(result.history["val_acc"].max()), "diverged": diverged})
    return pd.DataFrame(rows)


# --- 2. vanishing gradients through depth ---------------------------------------------------


def gradient_flow(
    splits: dict[str, np.ndarray],
    variants: dict[str, dict[str, Any]],
    model: dict[str, Any],
    fit_params: dict[str, Any],
    trainer: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train a deep plain network per variant (activation, init, batch_norm) and record the
    gradient norm of every Linear layer's weights before each optimizer step.

    Returns:
        Gradient norms in long form (variant, step, epoch, layer 1..depth+1, the last being
        the output layer, grad_norm), per-epoch histories, and scores per variant: test
        accuracy and the ratio of the first to the last layer's gradient norm (median
        over steps; << 1 means the gradient vanishes on its way to the input).
    """
    if not variants:
        raise ValueError("optimization.depth.variants: name at least one network")
    data = labelled_splits(splits)
    test_images, test_labels = data["test"].tensors
    norms, histories, scores = [], [], []
    for name, settings in variants.items():
        config = variant_fit(fit_params, {}, len(data["train"]), "optimization.depth.fit")
        network = PlainDeepNet(**{**model, **settings}, seed=int(config["seed"]))
        layers = {str(i): layer.weight for i, layer in enumerate(network.linear_layers(), start=1)}
        recorder = StepRecorder(layers)
        result = fit(network, data["train"], data["val"], step=classification_step, name=f"depth_{name}",
                     fit_params=config, trainer_params=trainer, callbacks=[recorder])
        frame = recorder.frame()
        long = frame.drop(columns="grad_norm").melt(id_vars=["step", "epoch"], value_vars=[f"grad_norm/{k}" for k in layers],
                          var_name="layer", value_name="grad_norm")
        long["layer"] = long["layer"].str.split("/").str[1].astype(int)
        norms.append(long.assign(variant=name))
        histories.append(result.history.assign(variant=name))
        ratio = (frame["grad_norm/1"] / frame[f"grad_norm/{len(layers)}"]).median()
        first = frame.iloc[0]
        scores.append({"variant": name, **{k: settings.get(k) for k in ("activation", "init", "batch_norm")},
                       "test_acc": classification_scores(result.model, test_images, test_labels)["acc"],
                       "first_to_last_grad_ratio": float(ratio),
                       "first_layer_grad_norm_step0": float(first["grad_norm/1"]),
                       "last_layer_grad_norm_step0": float(first[f"grad_norm/{len(layers)}"])})
        logger.info("%s: first/last layer gradient norm %.3g, test accuracy %.4f", name, ratio, scores[-1]["test_acc"])
    order = ["variant", "step", "epoch", "layer", "grad_norm"]
    return pd.concat(norms, ignore_index=True)[order], pd.concat(histories, ignore_index=True), pd.DataFrame(scores)


# --- 3. exploding gradients through time, and clipping ----------------------------------------


def train_with_clipping(
    sequences: dict[str, torch.Tensor],
    variants: dict[str, dict[str, Any]],
    model: dict[str, Any],
    fit_params: dict[str, Any],
    explosion_threshold: float,
    trainer: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train the same RNN on the long-memory sequences with each clipping setting.

    Args:
        variants: name -> fit overrides (``gradient_clip_val``, ``gradient_clip_algorithm``).
        explosion_threshold: a step whose gradient norm (before clipping) exceeds it counts
            as an explosion.
    Returns:
        The per-step log (loss, gradient norm before clipping), per-epoch histories and
        scores per variant (test accuracy, largest and median gradient norm, explosions,
        steps with a non-finite loss).
    """
    if not variants:
        raise ValueError("optimization.clipping.variants: name at least one setting")
    train = TensorDataset(sequences["train_x"], sequences["train_y"])
    val = TensorDataset(sequences["val_x"], sequences["val_y"])
    features, classes = sequences["train_x"].shape[2], int(sequences["train_y"].max()) + 1
    steps, histories, scores = [], [], []
    for name, overrides in variants.items():
        config = variant_fit(fit_params, overrides, len(train), f"optimization.clipping.variants.{name}")
        network = SequenceRNN(features, classes=classes, **model, seed=int(config["seed"]))
        recorder = StepRecorder()
        result = fit(network, train, val, step=classification_step, name=f"clip_{name}", fit_params=config,
                     trainer_params=trainer, callbacks=[recorder])
        frame = recorder.frame()
        steps.append(frame.assign(variant=name))
        histories.append(result.history.assign(variant=name))
        finite = frame["grad_norm"].replace([np.inf, -np.inf], np.nan)
        scores.append({
            "variant": name, "clip": "none" if config["gradient_clip_val"] is None
            else f"{config['gradient_clip_algorithm']} {config['gradient_clip_val']:g}",
            "test_acc": classification_scores(result.model, sequences["test_x"], sequences["test_y"])["acc"],
            "best_val_acc": float(result.history["val_acc"].max()),
            "final_val_acc": float(result.history["val_acc"].iloc[-1]),
            "max_grad_norm": float(finite.max()), "median_grad_norm": float(finite.median()),
            "explosions": int((frame["grad_norm"] > explosion_threshold).sum()),
            "nonfinite_loss_steps": int((~np.isfinite(frame["loss"])).sum()),
        })
        logger.info("clipping %s: test accuracy %.3f, max gradient norm %.3g", name, scores[-1]["test_acc"],
                    scores[-1]["max_grad_norm"])
    return pd.concat(steps, ignore_index=True), pd.concat(histories, ignore_index=True), pd.DataFrame(scores)


# --- 4. moving averages of the loss ----------------------------------------------------------


def smooth_training_loss(steps: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """The per-step training loss of one comparison run with its SMA, its plain EMA and
    its bias-corrected EMA (columns step, loss, sma, ema, ema_corrected)."""
    p = over_defaults(params, SMOOTHING_DEFAULTS, "optimization.smoothing")
    run = steps[steps["variant"] == p["variant"]].sort_values("step")
    if run.empty:
        raise ValueError(f"optimization.smoothing.variant: no comparison run named {p['variant']!r}; "
                         f"have {sorted(steps['variant'].unique())}")
    loss = run["loss"].to_numpy()
    return pd.DataFrame({
        "step": run["step"].to_numpy() + 1, "loss": loss,
        "sma": simple_moving_average(loss, int(p["sma_window"])),
        "ema": exponential_moving_average(loss, float(p["ema_beta"]), bias_correction=False),
        "ema_corrected": exponential_moving_average(loss, float(p["ema_beta"]), bias_correction=True),
    })


# --- report ----------------------------------------------------------------------------------


def summarize(
    compare: pd.DataFrame, sweep: pd.DataFrame, depth: pd.DataFrame, clipping: pd.DataFrame, smoothed: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """One long results table (experiment, variant, measure, value) and the same figures
    as MLflow metrics ``<experiment>.<variant>.<measure>``."""
    rows = []

    def add(experiment: str, frame: pd.DataFrame, measures: list[str]) -> None:
        for _, row in frame.iterrows():
            for measure in measures:
                rows.append({"experiment": experiment, "variant": row["variant"], "measure": measure,
                             "value": float(row[measure])})

    add("compare", compare, ["test_acc", "test_acc_weight_ema", "final_train_loss", "epochs_to_target_loss",
                             "seconds_to_target_loss", "train_seconds"])
    best = sweep.sort_values("best_val_acc", ascending=False).groupby("variant", sort=False).head(1)
    sweep_summary = best.rename(columns={"lr": "best_lr"}).merge(
        sweep.groupby("variant")["diverged"].sum().rename("diverged_runs").reset_index(), on="variant")
    add("lr_sweep", sweep_summary, ["best_lr", "best_val_acc", "diverged_runs"])
    add("depth", depth, ["test_acc", "first_to_last_grad_ratio"])
    add("clipping", clipping, ["test_acc", "max_grad_norm", "explosions"])
    first = smoothed.iloc[0]
    smoothing = pd.DataFrame([{"variant": "loss", "loss_step1": first["loss"], "ema_step1": first["ema"],
                               "ema_corrected_step1": first["ema_corrected"]}])
    add("smoothing", smoothing, ["loss_step1", "ema_step1", "ema_corrected_step1"])
    table = pd.DataFrame(rows)
    metrics = metrics_for_mlflow({f"{r.experiment}.{r.variant}.{r.measure}": r.value for r in table.itertuples()})
    return table, metrics
