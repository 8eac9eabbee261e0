"""Nodes of neural_odes_flows: a continuous normalizing flow fitted to each 2-D density by
maximum likelihood (Hutchinson trace while training, exact trace to evaluate), its density
and samples drawn, against a Gaussian fitted to the same data. Plain functions of plain
values: call them from a notebook as the pipeline does."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dl_roadmap.core.loop import LoopContext, OptimizedModel, run_loop
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.pipelines.neural_odes_flows.cnf import (
    CNFDynamics, DensityModel, grid_log_density, log_density, sample,
)
from dl_roadmap.pipelines.neural_odes_flows.data import sample_density

AREA = "neural_odes_flows"


def _train_one(name: str, settings: dict[str, Any], trainer: dict[str, Any]) -> tuple[CNFDynamics, pd.DataFrame]:
    """Maximum likelihood with the Hutchinson trace, one fresh batch of the density per
    iteration (drawn from torch's global generator, which run_loop seeds and checkpoints)."""
    loop = {**settings["loop"]}
    iterations = int(loop["max_iterations"])
    torch.manual_seed(int(loop["seed"]))
    state = OptimizedModel(CNFDynamics(**settings["model"]), settings, iterations)
    solver = settings["train_solver"]

    def iterate(state: OptimizedModel, context: LoopContext) -> dict[str, float]:
        rng = np.random.default_rng(int(torch.randint(2**31, ())))
        x = torch.from_numpy(sample_density(name, int(settings["batch_size"]), rng))
        before = state.model.nfe
        loss = -log_density(state.model, x, settings["train_trace"], **solver).mean()
        nfe_forward = state.model.nfe - before
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        state.optimizer.step()
        if state.scheduler:
            state.scheduler.step()
        return {"nll": float(loss.detach()), "nfe_forward": nfe_forward}

    result = run_loop(state, iterate, name=f"{AREA}_{name}", loop_params=loop, trainer_params=trainer)
    return result.state.model.eval(), result.history


def gaussian_nll(train: np.ndarray, test: np.ndarray) -> float:
    """Mean negative log-likelihood of ``test`` under a full-covariance Gaussian fitted to ``train``."""
    from scipy.stats import multivariate_normal

    return float(-multivariate_normal(train.mean(0), np.cov(train.T)).logpdf(test).mean())


def train_flows(settings: dict[str, Any], trainer: dict[str, Any]) -> tuple[
        dict[str, DensityModel], dict[str, pd.DataFrame], pd.DataFrame]:
    """One flow per density of ``settings["densities"]``, each scored on fresh test points:
    NLL with the exact trace, the Hutchinson estimate of the same log-densities (mean and
    spread of its error), a Gaussian's NLL, and the probability mass on the plotting grid.

    Returns:
        The trained flows as density models, their training histories, the results table.
    """
    models, histories, rows = {}, {}, []
    rng = np.random.default_rng(int(settings["evaluation"]["seed"]))
    for name in settings["densities"]:
        start = time.perf_counter()
        dynamics, history = _train_one(name, settings, trainer)
        seconds = time.perf_counter() - start
        model = DensityModel(dynamics, tol=float(settings["evaluation"]["tol"]))
        test = sample_density(name, int(settings["evaluation"]["test_points"]), rng)
        x = torch.from_numpy(test)
        torch.manual_seed(int(settings["evaluation"]["seed"]))
        exact = model(x)
        estimates = torch.stack([log_density(dynamics, x, "hutchinson", tol=model.tol).detach()
                                 for _ in range(int(settings["evaluation"]["hutchinson_draws"]))])
        error = estimates - exact
        _, mass = grid_log_density(model, float(settings["plot"]["limit"]), int(settings["plot"]["points"]))
        train_points = sample_density(name, len(test), rng)
        rows.append({"density": name, "test_nll_exact": float(-exact.mean()),
                     "test_nll_hutchinson": float(-estimates.mean()),
                     "hutchinson_mean_error": float(error.mean()), "hutchinson_error_std": float(error.std()),
                     "gaussian_nll": gaussian_nll(train_points, test), "grid_mass": mass,
                     "iterations": len(history) and int(history["iteration"].max()) + 1,
                     "train_seconds": seconds, "nfe_forward_last": float(history["nfe_forward"].iloc[-1])})
        models[name], histories[name] = model, history
    return models, histories, pd.DataFrame(rows)


def density_figure(models: dict[str, DensityModel], settings: dict[str, Any]) -> Figure:
    """Per density: data samples, the flow's density exp(log p) on the grid, flow samples."""
    plot = settings["plot"]
    limit, points, n = float(plot["limit"]), int(plot["points"]), int(plot["samples"])
    rng = np.random.default_rng(0)
    figure = Figure(figsize=(10, 3.4 * len(models)), layout="constrained")
    axes = np.atleast_2d(figure.subplots(len(models), 3))
    generator = torch.Generator().manual_seed(0)
    for row, (name, model) in zip(axes, models.items()):
        data = sample_density(name, n, rng)
        log_p, mass = grid_log_density(model, limit, points)
        samples = sample(model.dynamics, n, generator, tol=model.tol).numpy()
        row[0].scatter(data[:, 0], data[:, 1], s=1, alpha=0.5)
        row[1].imshow(np.exp(log_p), origin="lower", extent=(-limit, limit, -limit, limit), cmap="magma")
        row[2].scatter(samples[:, 0], samples[:, 1], s=1, alpha=0.5, color="C1")
        titles = (f"{name}: data", f"flow density (mass on grid {mass:.3f})", "flow samples")
        for ax, title in zip(row, titles):
            ax.set(title=title, xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal", xticks=[], yticks=[])
    return figure


def curves_figure(histories: dict[str, pd.DataFrame]) -> Figure:
    """Training NLL (Hutchinson) and forward NFE per iteration of each flow."""
    figure = Figure(figsize=(10, 3.6), layout="constrained")
    left, right = figure.subplots(1, 2)
    for name, history in histories.items():
        left.plot(history["iteration"], history["nll"], label=name)
        right.plot(history["iteration"], history["nfe_forward"], label=name)
    left.set(title="training NLL (Hutchinson trace)", xlabel="iteration", ylabel="nats")
    right.set(title="forward function evaluations", xlabel="iteration", ylabel="NFE")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    return figure


def summary_metrics(results: pd.DataFrame) -> dict[str, dict[str, float]]:
    values = {}
    for row in results.to_dict("records"):
        for key in ("test_nll_exact", "gaussian_nll", "hutchinson_mean_error", "hutchinson_error_std", "grid_mass"):
            values[f"{row['density']}.{key}"] = row[key]
    return metrics_for_mlflow(values)


def log_model(models: dict[str, DensityModel], density: str) -> DensityModel:
    """One flow for MLflow: points (N, 2) float -> log-density (N,) (exact trace, dopri5)."""
    if density not in models:
        raise ValueError(f"{AREA}.mlflow_model: one of {sorted(models)}, got {density!r}")
    return models[density].eval()
