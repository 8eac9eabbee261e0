"""Nodes of generative: VAEs on stochastically binarized MNIST. Plain functions of plain
values; every training goes through ``core.training.fit`` (the main VAE through the shared
tune stage, which retrains the best trial's config)."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import TensorDataset

from dl_roadmap.core.params import deep_merge
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.data import image_tensor, split_mnist
from dl_roadmap.image.generator_model import GeneratorModel
from dl_roadmap.image.yardstick import Yardstick, yardstick_table
from dl_roadmap.pipelines.generative.vae import VAE, iwae_bound, vae_from_config, vae_step

logger = logging.getLogger(__name__)

BINARIZE_SEED = 0  # the one fixed Bernoulli draw of the validation and test images


def ingest(mnist: dict[str, Any], params: dict[str, Any]) -> dict[str, np.ndarray]:
    """Seeded MNIST splits (grey, uint8): binarization happens when the data are used."""
    return split_mnist(mnist, params)[0]


def binarized(splits: dict[str, np.ndarray], split: str) -> torch.Tensor:
    """One fixed stochastic binarization of a split: x_i ~ Bernoulli(pixel / 255), seeded, so
    every evaluation sees the same binary images (as the standard test sets are fixed)."""
    grey = image_tensor(splits, split)
    return torch.bernoulli(grey, generator=torch.Generator().manual_seed(BINARIZE_SEED + len(split)))


def vae_datasets(splits: dict[str, np.ndarray]) -> dict[str, TensorDataset]:
    """train: grey images (binarized afresh at every visit by the step); val, test: binarized once."""
    labels = {s: torch.from_numpy(splits[f"{s}_labels"]).long() for s in ("train", "val", "test")}
    return {"train": TensorDataset(image_tensor(splits, "train"), labels["train"]),
            **{s: TensorDataset(binarized(splits, s), labels[s]) for s in ("val", "test")}}


def train_vae(splits: dict[str, np.ndarray], config: dict[str, Any], trainer: dict[str, Any], name: str
              ) -> tuple[VAE, pd.DataFrame]:
    """Train one VAE of ``config`` (model + fit blocks), monitoring the validation ELBO."""
    sets = vae_datasets(splits)
    result = fit(vae_from_config(config), sets["train"], sets["val"], step=vae_step, name=name,
                 fit_params={**config["fit"], "monitor": "val_elbo", "mode": "max"}, trainer_params=trainer)
    return result.model.eval(), result.history


def train_cvae(splits: dict[str, np.ndarray], config: dict[str, Any], trainer: dict[str, Any]
               ) -> tuple[VAE, pd.DataFrame]:
    """The conditional VAE (``model.conditional: true``): q(z|x, y), p(x|z, y)."""
    return train_vae(splits, deep_merge(config, {"model": {"conditional": True}}), trainer, "cvae")


@torch.no_grad()
def test_bounds(model: VAE, splits: dict[str, np.ndarray], params: dict[str, Any]) -> pd.DataFrame:
    """Test ELBO on every test image, and the IWAE bound L_k for each k on the first
    ``images`` test images (the same importance samples' seed for every k).

    Returns:
        One row per (estimate, k): images, mean bound in nats, its standard error, NLL = -bound.
    """
    sets = vae_datasets(splits)
    x, y = sets["test"].tensors
    labels = y if model.classes else None
    torch.manual_seed(0)
    elbos = torch.cat([(lambda t: t[0] - t[1])(model.elbo_terms(xb, lb if labels is not None else None))
                       for xb, lb in zip(x.split(1000), y.split(1000))])
    rows = [_row("ELBO", 1, elbos)]
    n = min(int(params["images"]), len(x))
    for k in params["ks"]:
        generator = torch.Generator().manual_seed(1)
        bound = torch.cat([iwae_bound(model, xb, int(k), lb if labels is not None else None, generator)
                           for xb, lb in zip(x[:n].split(100), y[:n].split(100))])
        rows.append(_row("IWAE", int(k), bound))
        logger.info("IWAE k=%d on %d test images: NLL %.2f nats", k, n, -bound.mean())
    return pd.DataFrame(rows)


def _row(estimate: str, k: int, values: torch.Tensor) -> dict[str, Any]:
    return {"estimate": estimate, "k": k, "images": len(values), "bound_nats": float(values.mean()),
            "std_error": float(values.std() / math.sqrt(len(values))), "nll_nats": float(-values.mean())}


def latent_2d(splits: dict[str, np.ndarray], config: dict[str, Any], trainer: dict[str, Any]
              ) -> tuple[VAE, pd.DataFrame, pd.DataFrame]:
    """A VAE with a 2-d latent space: the model, its history, and the test images' codes
    (mean of q(z|x)) with their labels."""
    model, history = train_vae(splits, config, trainer, "latent_2d")
    x, y = vae_datasets(splits)["test"].tensors
    with torch.no_grad():
        mu = model.encode(x)[0].numpy()
    return model, history, pd.DataFrame({"z1": mu[:, 0], "z2": mu[:, 1], "label": y.numpy()})


def beta_sweep(splits: dict[str, np.ndarray], params: dict[str, Any], trainer: dict[str, Any]
               ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Train the sweep's VAE once per beta; rate and distortion on the test images.

    Returns:
        One row per beta (test rate, distortion, ELBO in nats; active latent units, those
        whose mean KL exceeds 0.01 nats), and 8 samples per beta.
    """
    x = vae_datasets(splits)["test"].tensors[0]
    rows, samples = [], {}
    for beta in params["betas"]:
        config = deep_merge(params["config"], {"model": {"beta": float(beta)}})
        model, _ = train_vae(splits, config, trainer, f"beta_{beta:g}")
        with torch.no_grad():
            torch.manual_seed(0)
            log_px, kl = model.elbo_terms(x)
            mu, logvar = model.encode(x)
            unit_kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(0)
        rows.append({"beta": float(beta), "rate_nats": float(kl.mean()), "distortion_nats": float(-log_px.mean()),
                     "elbo_nats": float((log_px - kl).mean()), "active_units": int((unit_kl > 0.01).sum())})
        samples[f"beta {beta:g}"] = model.sample(8, torch.Generator().manual_seed(0))[:, 0].numpy()
        logger.info("beta %g: rate %.1f, distortion %.1f nats", beta, rows[-1]["rate_nats"], rows[-1]["distortion_nats"])
    return pd.DataFrame(rows), samples


def interpolations(model: VAE, splits: dict[str, np.ndarray], params: dict[str, Any]) -> dict[str, np.ndarray]:
    """Decode straight lines between the codes (means of q(z|x)) of pairs of test digits.

    Returns:
        One row of ``steps`` images per pair, named "<label a> -> <label b>".
    """
    x, y = vae_datasets(splits)["test"].tensors
    steps = int(params["steps"])
    rows = {}
    with torch.no_grad():
        for a, b in params["pairs"]:
            za, zb = model.encode(x[[a, b]])[0]
            t = torch.linspace(0, 1, steps)[:, None]
            images = torch.sigmoid(model.decode((1 - t) * za + t * zb)).view(steps, 28, 28)
            rows[f"{int(y[a])} -> {int(y[b])} (test {a}, {b})"] = images.numpy()
    return rows


def class_samples(model: VAE, n_per_class: int) -> dict[str, np.ndarray]:
    """``n_per_class`` samples of each class from a conditional model (one row per class)."""
    generator = torch.Generator().manual_seed(0)
    return {f"y = {c}": model.sample(n_per_class, generator, torch.full((n_per_class,), c))[:, 0].numpy()
            for c in range(model.classes)}


def fit_yardstick(splits: dict[str, np.ndarray], params: dict[str, Any], trainer: dict[str, Any]) -> Yardstick:
    """The shared yardstick on the grey MNIST splits (trained once, then cached)."""
    return Yardstick.fit(splits, params, trainer)


def score_generators(stick: Yardstick, vae: VAE, cvae: VAE, vae_2d: VAE, bounds: pd.DataFrame,
                     params: dict[str, Any]) -> pd.DataFrame:
    """The yardstick row of each VAE's samples (Bernoulli means), the reference rows, and the
    main VAE's test NLL (the IWAE estimate with the largest k)."""
    n = int(params["samples"])
    rows = [stick.score(model.sample(n, torch.Generator().manual_seed(0)), name=name)
            for name, model in (("VAE (50-d latent)", vae), ("conditional VAE", cvae), ("VAE (2-d latent)", vae_2d))]
    iwae = bounds[bounds["estimate"] == "IWAE"].sort_values("k").iloc[-1]
    rows[0]["nll_nats"] = float(iwae["nll_nats"])
    rows[0]["bits_per_dim"] = float(iwae["nll_nats"]) / (784 * math.log(2))
    return yardstick_table(rows + stick.reference_rows(n))


def generator_model(model: VAE) -> GeneratorModel:
    """The VAE as an MLflow pyfunc: predict(DataFrame{n, seed}) -> float32 (n, 1, 28, 28) in [0, 1]."""
    return GeneratorModel(model)


def conditional_generator_model(model: VAE) -> GeneratorModel:
    """The conditional VAE: predict(DataFrame{n, seed, label}) -> float32 (n, 1, 28, 28)."""
    return GeneratorModel(model, conditional=True)


def summary_metrics(bounds: pd.DataFrame, cvae_bounds: pd.DataFrame, sweep: pd.DataFrame, table: pd.DataFrame
                    ) -> dict[str, dict[str, float]]:
    """Test ELBO and NLL of the VAE and the conditional VAE, the sweep's rate and distortion,
    and the yardstick's FID, as MLflow metrics."""
    values: dict[str, float] = {}
    for prefix, frame in (("vae", bounds), ("cvae", cvae_bounds)):
        values[f"{prefix}_test_elbo"] = float(frame.loc[frame["estimate"] == "ELBO", "bound_nats"].iloc[0])
        for row in frame[frame["estimate"] == "IWAE"].itertuples():
            values[f"{prefix}_test_nll_k{row.k}"] = row.nll_nats
    iwae = bounds[bounds["estimate"] == "IWAE"].sort_values("k")
    values["test_nll"] = float(iwae["nll_nats"].iloc[-1])
    for row in sweep.itertuples():
        values[f"beta_{row.beta:g}_rate"] = row.rate_nats
        values[f"beta_{row.beta:g}_distortion"] = row.distortion_nats
    for row in table.itertuples():
        if not row.model.startswith("reference"):
            values[f"fid_{row.model.split(' (')[0].replace(' ', '_')}{'_2d' if '2-d' in row.model else ''}"] = row.fid
    return metrics_for_mlflow(values)
