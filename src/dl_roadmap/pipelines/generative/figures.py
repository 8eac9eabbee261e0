"""Figures of generative: the 2-d latent manifold and codes, interpolations, the beta
sweep's rate against distortion, the IWAE bound against k, samples, training curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from scipy.stats import norm

from dl_roadmap.core.plotting import image_grid, scatter_2d, training_curves
from dl_roadmap.pipelines.generative.vae import VAE

BURDA_VAE_NLL = 86.76  # Burda et al. 2016, Table 1: VAE, one stochastic layer, k = 1, MNIST


def manifold_figure(model: VAE, size: int = 20) -> Figure:
    """Kingma & Welling's Figure 4: decode a size x size grid of z, spaced by the inverse
    Gaussian CDF so each cell covers the same prior mass."""
    quantiles = norm.ppf(np.linspace(0.05, 0.95, size))
    z = torch.tensor([[a, b] for b in quantiles[::-1] for a in quantiles], dtype=torch.float32)
    with torch.no_grad():
        images = torch.sigmoid(model.decode(z)).view(size, size, 28, 28).numpy()
    canvas = images.transpose(0, 2, 1, 3).reshape(size * 28, size * 28)
    figure = Figure(figsize=(7, 7), layout="constrained")
    ax = figure.subplots()
    ax.imshow(canvas, cmap="gray", extent=(quantiles[0], quantiles[-1], quantiles[0], quantiles[-1]))
    ax.set(title="learned MNIST manifold: decoded z on a grid of prior quantiles", xlabel="z1", ylabel="z2")
    ax.grid(False)
    return figure


def latent_codes_figure(codes: pd.DataFrame) -> Figure:
    """Means of q(z|x) of the test images in the 2-d latent space, coloured by digit."""
    return scatter_2d(codes[["z1", "z2"]].to_numpy(), codes["label"].to_numpy(), "2-d latent codes of MNIST test images")


def interpolation_figure(rows: dict[str, np.ndarray]) -> Figure:
    return image_grid(rows, "decoded straight lines between two test digits' codes")


def beta_samples_figure(rows: dict[str, np.ndarray]) -> Figure:
    return image_grid(rows, "beta-VAE samples (Bernoulli means), one row per beta")


def cvae_samples_figure(rows: dict[str, np.ndarray]) -> Figure:
    return image_grid(rows, "conditional VAE: one row per chosen class y")


def rate_distortion_figure(sweep: pd.DataFrame) -> Figure:
    """Test distortion against rate per beta, with the ELBO's iso-lines (rate + distortion = c)."""
    figure = Figure(figsize=(6.5, 5), layout="constrained")
    ax = figure.subplots()
    ax.plot(sweep["rate_nats"], sweep["distortion_nats"], "o-")
    for row in sweep.itertuples():
        ax.annotate(f"beta={row.beta:g}\n({row.active_units} active)", (row.rate_nats, row.distortion_nats),
                    textcoords="offset points", xytext=(6, 4), fontsize=8)
    total = (sweep["rate_nats"] + sweep["distortion_nats"]).min()
    rates = np.linspace(0, sweep["rate_nats"].max() * 1.1, 50)
    ax.plot(rates, total - rates, ":", color="grey", label=f"rate + distortion = {total:.1f} (best -ELBO)")
    ax.set(xlabel="rate: KL(q(z|x) || p(z)) [nats]", ylabel="distortion: -E_q log p(x|z) [nats]",
           title="beta-VAE on the test set: rate against distortion", ylim=(0, None), xlim=(0, None))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def iwae_figure(bounds: pd.DataFrame) -> Figure:
    """-L_k against k (log axis), with the ELBO and Burda et al.'s figure for reference."""
    iwae = bounds[bounds["estimate"] == "IWAE"].sort_values("k")
    elbo = bounds[bounds["estimate"] == "ELBO"].iloc[0]
    figure = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = figure.subplots()
    ax.errorbar(iwae["k"], iwae["nll_nats"], yerr=iwae["std_error"], marker="o", capsize=3,
                label=f"-L_k on {int(iwae['images'].iloc[0])} test images")
    ax.axhline(elbo["nll_nats"], color="C1", ls="--", label=f"-ELBO, all {int(elbo['images'])} test images")
    ax.axhline(BURDA_VAE_NLL, color="grey", ls=":", label="Burda et al. VAE, 3,280 epochs: 86.76")
    ax.set_xscale("log")
    ax.set(xlabel="importance samples k", ylabel="negative log-likelihood bound [nats]",
           title="the IWAE bound tightens as k grows")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def curves_figure(vae: pd.DataFrame, latent_2d: pd.DataFrame, cvae: pd.DataFrame) -> Figure:
    return training_curves({"VAE (tuned)": vae, "VAE, 2-d latent": latent_2d, "conditional VAE": cvae})


def yardstick_figure(table: pd.DataFrame) -> Figure:
    from dl_roadmap.image.yardstick import plot_yardstick

    return plot_yardstick(table, "VAEs on MNIST against the shared yardstick")
