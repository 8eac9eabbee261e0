"""Nodes of energy_based_langevin: a JEM energy model of Fashion-MNIST trained with short-run
Langevin dynamics beside the same net trained as a plain classifier; samples and a GIF of a
Langevin chain; out-of-distribution detection (Fashion-MNIST in, MNIST out) with energy and
softmax scores; the EBM as a generator on the shared yardstick. The maths is in ebm.py and
ood.py."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from dl_roadmap.core.tracking import log_metrics, metrics_for_mlflow
from dl_roadmap.image.data import image_tensor, split_mnist
from dl_roadmap.pipelines.energy_based_langevin import ood
from dl_roadmap.pipelines.energy_based_langevin.ebm import EnergyNet, LangevinSampler, langevin, train_ebm

logger = logging.getLogger(__name__)

# Ren et al. (2019), "Likelihood ratios for out-of-distribution detection", NeurIPS, Table 1:
# AUROC of Fashion-MNIST (in) against MNIST (out) for scores of their own models.
PUBLISHED_AUROC = {"max softmax probability (their CNN)": 0.734, "likelihood (PixelCNN++)": 0.089,
                   "likelihood ratio (PixelCNN++)": 0.994}


def ingest(fashion_raw: dict[str, Any], mnist_raw: dict[str, Any], params: dict[str, Any]
           ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, Any]]:
    """Fashion-MNIST splits (in-distribution) and the MNIST test images (out of distribution)."""
    splits, summary = split_mnist(fashion_raw, params)
    limit = params.get("test_limit")
    ood_images = np.asarray(mnist_raw["test_images"][:limit])
    summary["ood_source"], summary["ood_size"] = mnist_raw.get("source", "unknown"), int(len(ood_images))
    return splits, ood_images, summary


def _train(splits: dict[str, np.ndarray], config: dict[str, Any], generative: bool, name: str
           ) -> tuple[EnergyNet, pd.DataFrame]:
    torch.set_num_threads(int(config["threads"]))
    model = EnergyNet(config["model"]["channels"], seed=int(config["seed"]))
    images = image_tensor(splits, "train")
    labels = torch.from_numpy(splits["train_labels"]).long()
    rows = train_ebm(model, images, labels, {**config, "generative": generative},
                     log=lambda metrics, step: log_metrics({f"{name}/{k}": v for k, v in metrics.items()}, step))
    val = image_tensor(splits, "val")
    with torch.no_grad():
        acc = float((model(val).argmax(1).numpy() == splits["val_labels"]).mean())
    logger.info("%s: validation accuracy %.4f", name, acc)
    return model, pd.DataFrame(rows).assign(model=name)


def train_energy_model(splits: dict[str, np.ndarray], config: dict[str, Any]) -> tuple[EnergyNet, pd.DataFrame]:
    """The JEM model: cross-entropy plus the Langevin maximum-likelihood term (ebm.py)."""
    return _train(splits, config, generative=True, name="jem")


def train_classifier(splits: dict[str, np.ndarray], config: dict[str, Any]) -> tuple[EnergyNet, pd.DataFrame]:
    """The same net, same batches and iterations, by cross-entropy alone: the baseline."""
    return _train(splits, config, generative=False, name="classifier")


def detect_ood(jem: EnergyNet, classifier: EnergyNet, splits: dict[str, np.ndarray], ood_images: np.ndarray,
               params: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    """Both scores of both models on the Fashion-MNIST test images (in) and the MNIST test
    images (out), as AUROC and FPR at 95% TPR; test accuracy beside them.

    Returns:
        The table (one row per model and score) and the raw scores for the histograms.
    """
    torch.set_num_threads(int(params["threads"]))
    fashion = image_tensor(splits, "test")
    mnist = torch.from_numpy(ood_images).float().div(255).unsqueeze(1)
    rows, raw = [], {}
    for name, model in {"jem": jem, "classifier": classifier}.items():
        s_in, s_out = ood.scores(model, fashion), ood.scores(model, mnist)
        with torch.no_grad():
            acc = float((model(fashion).argmax(1).numpy() == splits["test_labels"]).mean())
        raw[name] = {"in": s_in, "out": s_out}
        for score in ("energy", "msp"):
            rows.append({"model": name, "score": score, "test_acc": acc, **ood.detection_metrics(s_in[score], s_out[score])})
    for name, value in PUBLISHED_AUROC.items():
        rows.append({"model": f"published: Ren et al. 2019, {name}", "score": "", "test_acc": np.nan, "auroc": value,
                     "fpr_at_95_tpr": np.nan})
    table = pd.DataFrame(rows)
    logger.info("OOD detection:\n%s", table.to_string())
    return table, raw


def langevin_chain(jem: EnergyNet, params: dict[str, Any]) -> tuple[dict[str, np.ndarray], Image.Image]:
    """A grid of chains from uniform noise, with a frame every ``frame_every`` steps: the
    final grid (for the figure) and the chain as an animated GIF."""
    from dl_roadmap.core.animation import gif_from_frames

    torch.set_num_threads(int(params["threads"]))
    g = torch.Generator().manual_seed(int(params["seed"]))
    n = int(params["grid"]) ** 2
    x0 = torch.rand(n, 1, 28, 28, generator=g)
    final, frames = langevin(jem, x0, int(params["steps"]), float(params["step_size"]), float(params["noise"]), g,
                             keep_every=int(params["frame_every"]))
    side = int(params["grid"])

    def tile(batch: torch.Tensor) -> np.ndarray:
        return batch.view(side, side, 28, 28).permute(0, 2, 1, 3).reshape(side * 28, side * 28).numpy()

    gif = gif_from_frames([tile(f) for f in frames], frame_ms=int(params["frame_ms"]), scale=2)
    steps = np.arange(len(frames)) * int(params["frame_every"])
    return {"steps": steps, "frames": np.stack([f.squeeze(1).numpy() for f in frames]),
            "final": final.squeeze(1).numpy()}, gif


def langevin_generator(jem: EnergyNet, params: dict[str, Any]) -> LangevinSampler:
    """The EBM as a sampler: ``steps`` SGLD steps from uniform noise."""
    return LangevinSampler(jem, params["steps"], params["step_size"], params["noise"])


def yardstick_scores(splits: dict[str, np.ndarray], sampler: LangevinSampler, params: dict[str, Any],
                     config: dict[str, Any], trainer: dict[str, Any]) -> pd.DataFrame:
    """The shared yardstick (Fashion-MNIST classifier) on ``n`` EBM samples, with the
    reference rows. The EBM has no tractable likelihood: no NLL column."""
    from dl_roadmap.image.yardstick import Yardstick, yardstick_table

    torch.set_num_threads(int(params["threads"]))
    stick = Yardstick.fit(splits, config, trainer)
    g = torch.Generator().manual_seed(int(params["seed"]))
    n, batch = int(params["n"]), int(params["batch_size"])
    samples = torch.cat([sampler.sample(min(batch, n - i), g) for i in range(0, n, batch)])
    row = stick.score(samples, name=f"EBM (JEM, Langevin {sampler.steps} steps from noise) fashion_mnist")
    return yardstick_table([row, *stick.reference_rows(n)])


def log_generator(sampler: LangevinSampler) -> Any:
    """The generator as an MLflow pyfunc model (GeneratorModel): input a DataFrame with
    columns ``n`` and ``seed``; output float32 (n, 1, 28, 28) in [0, 1], the end of an SGLD
    chain from uniform noise."""
    from dl_roadmap.image.generator_model import GeneratorModel

    return GeneratorModel(sampler.eval(), conditional=False)


def summary_metrics(detection: pd.DataFrame, yardstick: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The headline figures as MLflow metrics."""
    values = {}
    for row in detection[detection["model"].isin(["jem", "classifier"])].itertuples():
        values[f"{row.model}_{row.score}_auroc"] = row.auroc
        values[f"{row.model}_{row.score}_fpr95"] = row.fpr_at_95_tpr
        values[f"{row.model}_test_acc"] = row.test_acc
    generated = yardstick.iloc[0]
    values.update(yardstick_fid=float(generated["fid"]), yardstick_precision=float(generated["precision"]),
                  yardstick_recall=float(generated["recall"]))
    return metrics_for_mlflow(values)
