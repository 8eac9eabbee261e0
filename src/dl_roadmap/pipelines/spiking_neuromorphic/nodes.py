"""Nodes of spiking_neuromorphic: moving digits turned into DVS events, a convolutional
SNN trained on the events, its spike rates per layer and an energy estimate against the
equivalent ANN. Plain functions of plain values; training goes through ``core.training.fit``."""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from PIL import Image
from torch.utils.data import TensorDataset

from dl_roadmap.core.inference import predict
from dl_roadmap.core.plotting import training_curves
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image import moving_mnist
from dl_roadmap.image.snn import SpikingNet, energy_table, model_from_config, operation_counts, snn_step
from dl_roadmap.pipelines.spiking_neuromorphic.events import dvs_events

logger = logging.getLogger(__name__)


def make_events(raw: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Moving-MNIST clips of one digit (train clips from training digits, val and test
    from test digits, split in two), rendered and turned into events.

    Returns:
        ``{split}_events`` (clips, T - 1, 2, H, W) uint8, ``{split}_labels``, and the
        ``{split}_frames`` of the first few test clips for the pictures.
    """
    clip = params["clip"]
    out: dict[str, Any] = {}
    sources = {"train": ("train", params["train_clips"], params["seed"]),
               "heldout": ("test", params["val_clips"] + params["test_clips"], params["seed"] + 1)}
    for split, (source, count, seed) in sources.items():
        images, labels = raw[f"{source}_images"], raw[f"{source}_labels"]
        # One digit per clip: the generator's bouncing paths and renderer (its two-digit
        # task labels do not apply to a single digit, so the recipe is built here).
        rng = np.random.default_rng(int(seed))
        index = rng.integers(0, len(images), (int(count), 1))
        paths = moving_mnist.bouncing_paths(rng, int(count), 1, int(clip["frames"]), int(clip["canvas"]),
                                            float(clip["speed"]))
        recipe = {"digit_index": index, "digit_labels": np.asarray(labels)[index], "paths": paths,
                  "canvas": int(clip["canvas"])}
        video = moving_mnist.render(images, recipe)
        events, targets = dvs_events(video, float(params["threshold"])), recipe["digit_labels"][:, 0]
        if split == "train":
            out["train_events"], out["train_labels"] = events, targets
        else:
            v = int(params["val_clips"])
            out["val_events"], out["val_labels"] = events[:v], targets[:v]
            out["test_events"], out["test_labels"] = events[v:], targets[v:]
            out["test_frames"] = video[v:v + int(params["picture_clips"])]
    rate = float(out["train_events"].mean())
    logger.info("events: %d/%d/%d clips, %d steps, %.4f events per pixel per step", len(out["train_labels"]),
                len(out["val_labels"]), len(out["test_labels"]), out["train_events"].shape[1], rate)
    return out


def _dataset(data: dict[str, Any], split: str) -> TensorDataset:
    return TensorDataset(torch.from_numpy(data[f"{split}_events"]), torch.from_numpy(data[f"{split}_labels"]).long())


def train_snn(data: dict[str, Any], config: dict[str, Any], trainer: dict[str, Any]) -> tuple[SpikingNet, pd.DataFrame]:
    """The conv SNN of ``config`` trained on event streams (coding ``events``)."""
    trainer = {**trainer, "num_threads": config.get("threads") or trainer.get("num_threads")}
    result = fit(model_from_config(config), _dataset(data, "train"), _dataset(data, "val"), step=snn_step,
                 name="event_snn", fit_params={**config["fit"], "monitor": "val_acc", "mode": "max"},
                 trainer_params=trainer)
    return result.model.eval(), result.history


def evaluate(model: SpikingNet, data: dict[str, Any], params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Test accuracy, and per layer: spike rates, accumulates (SNN) against multiply-adds
    (the same layers as an ANN, one dense pass), energies from per-operation figures.

    Returns:
        The results table and the per-layer energy table (last row: total).
    """
    events = torch.from_numpy(data["test_events"]).float()
    predicted = predict(model, events, batch_size=256).argmax(1)
    acc = float((predicted == data["test_labels"]).mean())
    counts = operation_counts(model, events[: int(params["ops_samples"])])
    table = energy_table(counts, **params["energy"])
    results = pd.DataFrame([{"test_acc": acc, "clips": len(predicted), "steps": events.shape[1],
                             "input_event_rate": float(events.mean()), "snn_energy_pj": table["snn_pj"].iloc[-1],
                             "ann_energy_pj": table["ann_pj"].iloc[-1], "ann_over_snn": table["ann_over_snn"].iloc[-1]}])
    logger.info("event SNN: test accuracy %.4f, energy ANN/SNN %.2f", acc, results["ann_over_snn"].iloc[0])
    return results, table


def events_gif(data: dict[str, Any], params: dict[str, Any]) -> Image.Image:
    """The first test clips: frames on top, their events below (ON white, OFF black on grey)."""
    frames, events = data["test_frames"], data["test_events"][: len(data["test_frames"])]
    pictures = []
    for t in range(events.shape[1]):
        top = np.concatenate([np.pad(clip[t + 1], 1, constant_values=80) for clip in frames], axis=1)
        signed = 128 + 127 * (events[:, t, 0].astype(np.int16) - events[:, t, 1])
        bottom = np.concatenate([np.pad(e.astype(np.uint8), 1, constant_values=80) for e in signed], axis=1)
        strip = np.concatenate([top, bottom]).astype(np.uint8)
        pictures.append(Image.fromarray(strip).resize((strip.shape[1] * 4, strip.shape[0] * 4), Image.NEAREST))
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:],
                     duration=int(params["gif_frame_ms"]), loop=0)
    buffer.seek(0)
    return Image.open(buffer)


def events_figure(data: dict[str, Any]) -> Figure:
    """Still version: for the first test clip, each frame and its ON/OFF events."""
    frames, events = data["test_frames"][0], data["test_events"][0]
    steps = events.shape[0]
    figure = Figure(figsize=(1.0 * steps, 2.4), layout="constrained")
    axes = figure.subplots(2, steps, squeeze=False)
    for t in range(steps):
        axes[0, t].imshow(frames[t + 1], cmap="gray", vmin=0, vmax=255)
        axes[1, t].imshow(events[t, 0].astype(int) - events[t, 1], cmap="gray", vmin=-1, vmax=1)
        for ax in axes[:, t]:
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, t].set_title(f"t={t + 1}", fontsize=7)
    axes[0, 0].set_ylabel("frame")
    axes[1, 0].set_ylabel("ON - OFF")
    return figure


def curves_figure(history: pd.DataFrame) -> Figure:
    """Loss and accuracy per epoch of the event SNN."""
    return training_curves({"event SNN": history})


def summary_metrics(results: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The headline figures as MLflow metrics."""
    return metrics_for_mlflow(results.iloc[0].to_dict())
