"""Nodes of generative_gans: DCGAN (non-saturating loss), WGAN-GP and a conditional GAN on
MNIST and Fashion-MNIST, and mode collapse on a ring of Gaussians (ring.py). Every GAN trains through
``core.training.fit`` with two optimizers; at the end of every epoch the shared yardstick
scores samples of the generator (FID on classifier features, precision/recall, class
coverage) and a grid of samples from fixed noise becomes a frame of the GIF."""

from __future__ import annotations

import logging
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.data import Subset

from dl_roadmap.core.animation import gif_from_frames
from dl_roadmap.core.params import deep_merge
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.data import labelled_split, split_mnist
from dl_roadmap.image.generator_model import GeneratorModel
from dl_roadmap.image.yardstick import Yardstick, yardstick_table
from dl_roadmap.pipelines.generative_gans.models import Gan, Generator, gan_from_config, gan_step
from dl_roadmap.pipelines.generative_gans.ring import train_ring_gan

logger = logging.getLogger(__name__)

DATASETS = ("mnist", "fashion_mnist")
SCORES = ("fid", "precision", "recall", "classes_covered", "share_max", "mean_confidence")


def ingest(mnist: dict[str, Any], fashion: dict[str, Any], params: dict[str, Any]) -> dict[str, dict[str, np.ndarray]]:
    """Seeded splits of both sets (``image.data.split_mnist``, the yardstick's split)."""
    return {"mnist": split_mnist(mnist, params)[0], "fashion_mnist": split_mnist(fashion, params)[0]}


def fit_yardsticks(data: dict[str, dict[str, np.ndarray]], params: dict[str, Any], trainer: dict[str, Any]
                   ) -> dict[str, Yardstick]:
    """The shared yardstick of each data set (trained once, then loaded from its cache)."""
    return {name: Yardstick.fit(splits, params, trainer) for name, splits in data.items()}


def run_config(params: dict[str, Any], run: str) -> dict[str, Any]:
    """A run's config: its ``runs`` entry (kind, data set, overrides) over its kind's block."""
    spec = params["runs"][run]
    return deep_merge(params["kinds"][spec["kind"]], spec.get("overrides") or {})


def optimizers_block(config: dict[str, Any]) -> dict[str, Any]:
    """``fit``'s two optimizers: the discriminator steps on every batch, the generator on one in
    ``critic_steps`` (WGAN-GP: 5)."""
    o = config["optim"]

    def adam(lr: float) -> dict[str, Any]:
        return {"name": "Adam", "lr": float(lr), "betas": list(o["betas"])}

    return {"discriminator": {"params": "discriminator", "optimizer": adam(o["d_lr"]), "scheduler": {"name": "none"}},
            "generator": {"params": "generator", "optimizer": adam(o["g_lr"]), "scheduler": {"name": "none"},
                          "every": int(o.get("critic_steps", 1))}}


def grid_frame(images: torch.Tensor, columns: int) -> np.ndarray:
    """(n, 1, 28, 28) -> one (rows*29, columns*29) image with 1-pixel gaps."""
    n = len(images)
    rows = -(-n // columns)
    canvas = np.ones((rows * 29 + 1, columns * 29 + 1), dtype=np.float32)
    for i, image in enumerate(images[:, 0].numpy()):
        r, c = divmod(i, columns)
        canvas[1 + r * 29: 1 + r * 29 + 28, 1 + c * 29: 1 + c * 29 + 28] = image
    return canvas


def make_evaluate(stick: Yardstick, samples: int, frames: list[np.ndarray], grid: int) -> Callable[..., dict]:
    """The ``evaluate`` hook of ``fit``: the yardstick's figures of ``samples`` generated images
    (fixed seed) and a grid of grid x grid images from fixed noise appended to ``frames``."""

    def evaluate(model: Gan, batches: Any) -> dict[str, float]:
        generator = model.generator
        frames.append(grid_frame(generator.sample(grid * grid, torch.Generator().manual_seed(1)).cpu(), grid))
        row = stick.score(generator.sample(samples, torch.Generator().manual_seed(0)).cpu(), name="epoch")
        return {key: float(row[key]) for key in SCORES}

    return evaluate


def train_gan(data: dict[str, dict[str, np.ndarray]], sticks: dict[str, Yardstick], params: dict[str, Any],
              trainer: dict[str, Any], run: str) -> tuple[Generator, pd.DataFrame, list[np.ndarray]]:
    """Train the run ``run`` of ``params["runs"]``.

    Returns:
        The generator, one history row per epoch (losses, D's outputs, the yardstick's figures
        as ``val_<figure>``) and one frame of samples per epoch.
    """
    spec = params["runs"][run]
    config = run_config(params, run)
    splits = data[spec["dataset"]]
    train = labelled_split(splits, "train")
    val = Subset(labelled_split(splits, "val"), range(min(int(params["val_images"]), len(splits["val_labels"]))))
    frames: list[np.ndarray] = []
    fit_params = {**params["fit"], "optimizers": optimizers_block(config), "monitor": "val_fid", "mode": "min",
                  "restore_best": False}  # the last epoch's generator: choosing by FID would peek at the test set
    result = fit(gan_from_config({**config, "fit": params["fit"]}), train, val, step=gan_step, name=run,
                 fit_params=fit_params, trainer_params=trainer,
                 evaluate=make_evaluate(sticks[spec["dataset"]], int(params["samples"]), frames, int(params["grid"])))
    last = result.history.iloc[-1]
    logger.info("%s: FID %.2f, recall %.3f, classes %d", run, last["val_fid"], last["val_recall"],
                last["val_classes_covered"])
    return result.model.generator.eval(), result.history.assign(run=run), frames


def score_generators(sticks: dict[str, Yardstick], params: dict[str, Any], **generators: Generator) -> pd.DataFrame:
    """The final yardstick row of every generator and the reference rows of each data set."""
    n = int(params["samples"])
    rows = []
    for name in DATASETS:
        for run, generator in generators.items():
            if params["runs"][run]["dataset"] == name:
                row = sticks[name].score(generator.sample(n, torch.Generator().manual_seed(0)), name=f"{run}")
                rows.append({**row, "dataset": name})
        rows += [{**row, "dataset": name} for row in sticks[name].reference_rows(n)]
    return yardstick_table(rows)


def training_gif(params: dict[str, Any], **frames: list[np.ndarray]) -> Image.Image:
    """One GIF: per epoch, every run's grid of samples from fixed noise, side by side (a
    row per data set); a run with fewer epochs holds its last frame."""
    epochs = max(len(f) for f in frames.values())
    out = []
    for epoch in range(epochs):
        lines = []
        for name in DATASETS:
            tiles = [f[min(epoch, len(f) - 1)] for run, f in frames.items() if params["runs"][run]["dataset"] == name]
            if tiles:
                lines.append(np.concatenate([np.pad(t, ((0, 0), (0, 8)), constant_values=1.0) for t in tiles], 1))
        width = max(line.shape[1] for line in lines)
        lines = [np.pad(line, ((0, 8), (0, width - line.shape[1])), constant_values=1.0) for line in lines]
        out.append(np.concatenate(lines, 0))
    return gif_from_frames(out, frame_ms=int(params["gif_frame_ms"]), scale=2)


def histories_table(**histories: pd.DataFrame) -> pd.DataFrame:
    """Every run's epochs in one table (column ``run``)."""
    return pd.concat(list(histories.values()), ignore_index=True)


def generator_model(generator: Generator) -> GeneratorModel:
    """A GAN generator as an MLflow pyfunc: predict(DataFrame{n, seed} (+ label when conditional))
    -> float32 (n, 1, 28, 28) in [0, 1]."""
    return GeneratorModel(generator, conditional=bool(generator.classes))


def train_ring_gans(ring: dict[str, Any], trainer: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, list[dict]]]:
    """Every ``ring.settings`` GAN on the ring of Gaussians.

    Returns:
        One row per setting and snapshot (step, modes covered, share of high-quality
        samples, share of the most common nearest mode, high-quality samples per mode) and
        the snapshots themselves (points).
    """
    rows, snapshots = [], {}
    for name, setting in ring["settings"].items():
        _, snapshots[name] = train_ring_gan(ring, setting, name, trainer)
        last = snapshots[name][-1]
        logger.info("ring, %s: %d of %d modes covered, %.1f%% high-quality samples", name, last["modes_covered"],
                    ring["modes"], 100 * last["high_quality"])
        rows += [{"setting": name, "pack": int(setting["pack"]), "step": snap["step"],
                  "modes_covered": snap["modes_covered"], "high_quality": snap["high_quality"],
                  "largest_share": snap["largest_share"],
                  "per_mode": " ".join(str(c) for c in snap["per_mode"])} for snap in snapshots[name]]
    return pd.DataFrame(rows), snapshots


def summary_metrics(table: pd.DataFrame, ring: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Final FID, precision, recall and classes covered of each generator, and the modes each
    ring GAN covers at the end, as MLflow metrics."""
    values = {}
    for row in table[~table["model"].str.startswith("reference")].itertuples():
        for key in ("fid", "precision", "recall", "classes_covered"):
            values[f"{row.model}_{key}"] = getattr(row, key)
    for setting, rows in ring.groupby("setting", sort=False):
        last = rows.iloc[-1]
        values[f"ring_{setting}_modes_covered"] = last["modes_covered"]
        values[f"ring_{setting}_high_quality"] = last["high_quality"]
        values[f"ring_{setting}_largest_share"] = last["largest_share"]
    return metrics_for_mlflow(values)
