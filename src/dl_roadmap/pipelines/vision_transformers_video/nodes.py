"""Nodes of vision_transformers_video: Moving-MNIST recipes from MNIST digits, the video
transformer and the frame-averaging CNN trained on a motion task (moving_mnist.TASKS), scores,
curves and an animated GIF of test clips. Plain functions of plain values."""

from __future__ import annotations

import io
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from PIL import Image
from torch import nn
from torch.utils.data import TensorDataset

from dl_roadmap.core.inference import predict
from dl_roadmap.core.plotting import training_curves
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image import moving_mnist
from dl_roadmap.image.vit import count_parameters
from dl_roadmap.pipelines.vision_transformers_video.models import build

SPLITS = ("train", "val", "test")
WORDS = {"approaching": ("apart", "closer"), "moving_right": ("left", "right")}  # label 0, 1


def make_clips(mnist_raw: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Recipes of the train, val and test clips: train and val from MNIST's training digits,
    test from its test digits (no digit image is shared), each split with its own seed.

    Returns:
        The recipes and the digit images they index, and a summary (sizes, label balance).
    """
    clips = {"train": ("train", params["train_clips"]), "val": ("train", params["val_clips"]),
             "test": ("test", params["test_clips"])}
    recipes, summary = {}, {"source": mnist_raw.get("source", "unknown"), **params["clip"]}
    for offset, (split, (source, count)) in enumerate(clips.items()):
        recipe = moving_mnist.generate(mnist_raw[f"{source}_images"], mnist_raw[f"{source}_labels"],
                                       params["clip"], int(count), int(params["seed"]) + offset)
        recipes[split] = {**recipe, "source": source}
        summary[f"{split}_clips"] = int(count)
        summary[f"{split}_positive_fraction"] = round(float(recipe[params["task"]].mean()), 4)
    data = {"recipes": recipes, "task": params["task"], "digits": {s: mnist_raw[f"{s}_images"] for s in ("train", "test")}}
    return data, {**summary, "task": params["task"]}


def _clips(data: dict[str, Any], split: str, stride: int, limit: int | None = None) -> TensorDataset:
    """Rendered clips of one split as uint8 (N, T, H, W) with their labels."""
    recipe = data["recipes"][split]
    chosen = slice(None, limit)
    pixels = moving_mnist.render(data["digits"][recipe["source"]], recipe, stride, chosen)
    return TensorDataset(torch.from_numpy(pixels), torch.from_numpy(recipe[data["task"]][chosen]))


def video_step(model: nn.Module, batch: Any) -> dict[str, torch.Tensor]:
    """Cross-entropy on clips (uint8 -> [0, 1] here, so the stored clips stay small); accuracy."""
    clips, labels = batch
    logits = model(clips.float() / 255)
    return {"loss": F.cross_entropy(logits, labels), "acc": (logits.argmax(1) == labels).float().mean()}


def train_models(data: dict[str, Any], params: dict[str, Any], trainer: dict[str, Any]
                 ) -> tuple[pd.DataFrame, pd.DataFrame, nn.Module, dict[str, Any]]:
    """Both models on the same clips and budget, the best validation epoch kept, scored on test.

    Returns:
        The results table, the histories, the trained transformer and the MLflow metrics.
    """
    stride = int(params["frame_stride"])
    train, val, test = (_clips(data, split, stride) for split in SPLITS)
    frames, size = train.tensors[0].shape[1], train.tensors[0].shape[-1]
    trainer = {**trainer, "num_threads": params.get("threads") or trainer.get("num_threads")}
    rows, histories, trained = [], [], {}
    for kind in ("transformer", "cnn"):
        model = build(kind, params[kind], frames, size, int(params["fit"]["seed"]))
        start = time.perf_counter()
        result = fit(model, train, val, step=video_step, name=kind,
                     fit_params={**params["fit"], "monitor": "val_acc", "mode": "max"}, trainer_params=trainer)
        seconds = time.perf_counter() - start
        logits = predict(result.model, test.tensors[0].float() / 255, batch_size=64)
        accuracy = float((logits.argmax(1) == test.tensors[1].numpy()).mean())
        rows.append({"model": kind, "parameters": count_parameters(model), "frames_seen": frames,
                     "epochs": len(result.history), "best_val_acc": result.best_score, "test_acc": accuracy,
                     "train_seconds": round(seconds, 1)})
        histories.append(result.history.assign(model=kind))
        trained[kind] = result.model
    results = pd.DataFrame(rows)
    metrics = {f"{row.model}_test_acc": row.test_acc for row in results.itertuples()}
    return results, pd.concat(histories, ignore_index=True), trained["transformer"].eval(), metrics_for_mlflow(metrics)


def curves_figure(histories: pd.DataFrame) -> Figure:
    """Loss and accuracy per epoch of both models, train against validation."""
    return training_curves({kind: table.drop(columns="model") for kind, table in histories.groupby("model")})


def clips_gif(data: dict[str, Any], model: nn.Module, params: dict[str, Any]) -> Image.Image:
    """The first test clips side by side, every frame (20 at the default), with the true
    answer and the transformer's in the title row; an animated GIF (Pillow)."""
    count, stride = int(params["gif"]["clips"]), int(params["frame_stride"])
    recipe = data["recipes"]["test"]
    every = moving_mnist.render(data["digits"]["test"], recipe, 1, slice(None, count))  # all frames
    seen = torch.from_numpy(every[:, ::stride]).float() / 255
    predicted = predict(model, seen).argmax(1)
    frames = []
    for t in range(every.shape[1]):
        strip = np.concatenate([np.pad(clip[t], 2, constant_values=80) for clip in every], axis=1)
        caption = np.zeros((12, strip.shape[1]), np.uint8)
        for c in range(count):  # a bar per clip: bright = the model is right
            right = predicted[c] == recipe[data["task"]][c]
            caption[3:9, c * strip.shape[1] // count + 4: (c + 1) * strip.shape[1] // count - 4] = 255 if right else 60
        frames.append(Image.fromarray(np.concatenate([strip, caption])).resize(
            (strip.shape[1] * 3, (strip.shape[0] + 12) * 3), Image.NEAREST))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=int(params["gif"]["frame_ms"]), loop=0)
    buffer.seek(0)
    return Image.open(buffer)


def frames_figure(data: dict[str, Any], model: nn.Module, params: dict[str, Any]) -> Figure:
    """Every frame of the first test clips, one row each, titled with the true answer and the
    transformer's (the GIF's content as a still)."""
    count, stride = int(params["gif"]["clips"]), int(params["frame_stride"])
    recipe = data["recipes"]["test"]
    every = moving_mnist.render(data["digits"]["test"], recipe, 1, slice(None, count))
    predicted = predict(model, torch.from_numpy(every[:, ::stride]).float() / 255).argmax(1)
    frames = every.shape[1]
    figure = Figure(figsize=(0.8 * frames, 0.9 * count + 0.4))
    axes = figure.subplots(count, frames, squeeze=False)
    for c in range(count):
        for t in range(frames):
            axes[c, t].imshow(every[c, t], cmap="gray", vmin=0, vmax=255)
            axes[c, t].set_xticks([])
            axes[c, t].set_yticks([])
        words = WORDS[data["task"]]
        axes[c, 0].set_ylabel(f"{words[recipe[data['task']][c]]}\n(model: {words[predicted[c]]})", fontsize=7)
    figure.suptitle(f"Moving-MNIST test clips, task {data['task']} (true / predicted)", fontsize=10)
    figure.tight_layout()
    return figure


def log_model(model: nn.Module) -> nn.Module:
    """The trained video transformer for MLflow: input float clips (N, T, 64, 64) in [0, 1]
    (T = frames / frame_stride, 10 at the default), output logits (N, 2) of the task's answer."""
    return model.eval()
