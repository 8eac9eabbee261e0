"""Nodes of neural_odes_latent: irregularly sampled spirals -> a latent ODE (ELBO) and a
time-gap RNN -> interpolation and extrapolation error of both. Plain functions of plain
values: call them from a notebook as the pipeline does."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.core.loop import LoopContext, OptimizedModel, run_loop
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.pipelines.neural_odes_latent.data import make_spirals
from dl_roadmap.pipelines.neural_odes_latent.latent_ode import GapRNN, LatentODE

AREA = "neural_odes_latent"


def spirals(settings: dict[str, Any]) -> dict[str, dict[str, torch.Tensor]]:
    """Train and test spirals (data.py)."""
    return make_spirals(settings)


def _train(model: nn.Module, loss: Callable[[nn.Module], dict[str, torch.Tensor]], name: str,
           settings: dict[str, Any], trainer: dict[str, Any]) -> tuple[nn.Module, pd.DataFrame, float]:
    """Full-batch optimisation of ``loss`` through run_loop; the model, history, seconds."""
    loop = settings["loop"]
    state = OptimizedModel(model, settings, int(loop["max_iterations"]))
    clip = settings.get("gradient_clip_val")

    def iterate(state: OptimizedModel, context: LoopContext) -> dict[str, float]:
        values = loss(state.model)
        state.optimizer.zero_grad(set_to_none=True)
        values["loss"].backward()
        if clip:
            nn.utils.clip_grad_norm_(state.model.parameters(), float(clip))
        state.optimizer.step()
        if state.scheduler:
            state.scheduler.step()
        return {key: float(value.detach()) for key, value in values.items()}

    start = time.perf_counter()
    result = run_loop(state, iterate, name=f"{AREA}_{name}", loop_params=loop, trainer_params=trainer)
    return result.state.model.eval(), result.history, time.perf_counter() - start


def train_latent_ode(data: dict[str, dict[str, torch.Tensor]], settings: dict[str, Any],
                     spiral_settings: dict[str, Any], trainer: dict[str, Any]) -> tuple[LatentODE, pd.DataFrame, float]:
    """The latent ODE, maximising the ELBO (one sample of z(t0) per spiral and iteration)."""
    torch.manual_seed(int(settings["loop"]["seed"]))
    train, noise = data["train"], float(spiral_settings["noise_std"])

    def loss(model: LatentODE) -> dict[str, torch.Tensor]:
        model.dynamics.nfe = 0
        values = model.negative_elbo(train["obs"], train["obs_index"], train["times"], noise)
        values["nfe"] = torch.tensor(float(model.dynamics.nfe))  # forward NFE of this iteration
        return values

    return _train(LatentODE(**settings["model"]), loss, "latent_ode", settings, trainer)


def train_rnn(data: dict[str, dict[str, torch.Tensor]], settings: dict[str, Any],
              trainer: dict[str, Any]) -> tuple[GapRNN, pd.DataFrame, float]:
    """The time-gap RNN, one-step-ahead squared error on the observations."""
    torch.manual_seed(int(settings["loop"]["seed"]))
    train = data["train"]
    return _train(GapRNN(**settings["model"]), lambda model: model.loss(train["obs"], train["obs_index"], train["times"]),
                  "rnn", settings, trainer)


@torch.no_grad()
def predictions(latent_ode: LatentODE, rnn: GapRNN, test: dict[str, torch.Tensor], window: int) -> dict[str, torch.Tensor]:
    """Each model's values on the test grid: the latent ODE on the whole grid (interpolation
    and extrapolation), the RNN after the observation window (it cannot interpolate)."""
    obs_times = test["times"][test["obs_index"]]
    return {"latent_ode": latent_ode(test["obs"], obs_times, test["times"]),
            "rnn": torch.cat([torch.full_like(test["truth"][:, :window], float("nan")),
                              rnn(test["obs"], obs_times, test["times"][window:])], 1)}


def evaluate(latent_ode: LatentODE, rnn: GapRNN, data: dict[str, dict[str, torch.Tensor]],
             spiral_settings: dict[str, Any], latent_seconds: float, rnn_seconds: float) -> pd.DataFrame:
    """RMSE against the noiseless spirals: on the observation window (interpolation) and on
    the ``extrapolate`` grid times after it, for each model; parameter counts and seconds."""
    window = int(spiral_settings["window"])
    test = data["test"]
    rows = []
    seconds = {"latent_ode": latent_seconds, "rnn": rnn_seconds}
    models = {"latent_ode": latent_ode, "rnn": rnn}
    for name, values in predictions(latent_ode, rnn, test, window).items():
        error = (values - test["truth"]) ** 2
        rows.append({"model": name, "parameters": sum(p.numel() for p in models[name].parameters()),
                     "observed_per_spiral": int(test["obs"].shape[1]), "window": window,
                     "interpolation_rmse": float(error[:, :window].mean().sqrt()),
                     "extrapolation_rmse": float(error[:, window:].mean().sqrt()),
                     "train_seconds": seconds[name]})
    return pd.DataFrame(rows)


def spirals_figure(latent_ode: LatentODE, rnn: GapRNN, data: dict[str, dict[str, torch.Tensor]],
                   spiral_settings: dict[str, Any], count: int = 4) -> Figure:
    """A few test spirals: noiseless truth, irregular observations, both models' predictions."""
    window = int(spiral_settings["window"])
    test = data["test"]
    values = predictions(latent_ode, rnn, test, window)
    figure = Figure(figsize=(3.3 * count, 3.5), layout="constrained")
    for i, ax in enumerate(np.atleast_1d(figure.subplots(1, count))):
        truth = test["truth"][i].numpy()
        ax.plot(truth[:, 0], truth[:, 1], color="0.7", lw=1, label="truth")
        ax.scatter(test["obs"][i, :, 0], test["obs"][i, :, 1], s=8, color="k", label="observed")
        lode = values["latent_ode"][i].numpy()
        ax.plot(lode[:window, 0], lode[:window, 1], color="C0", label="latent ODE")
        ax.plot(lode[window - 1:, 0], lode[window - 1:, 1], color="C0", ls="--", label="latent ODE, extrapolated")
        rnn_values = values["rnn"][i, window:].numpy()
        ax.plot(rnn_values[:, 0], rnn_values[:, 1], color="C3", ls="--", label="RNN, extrapolated")
        ax.set(aspect="equal", xticks=[], yticks=[], title=f"test spiral {i}")
    figure.axes[0].legend(fontsize=7, loc="lower left")
    return figure


def curves_figure(latent_history: pd.DataFrame, rnn_history: pd.DataFrame) -> Figure:
    """-ELBO and NFE of the latent ODE, one-step MSE of the RNN, per iteration."""
    figure = Figure(figsize=(14, 3.6), layout="constrained")
    axes = figure.subplots(1, 3)
    axes[0].plot(latent_history["iteration"], latent_history["loss"])
    axes[0].set(title="latent ODE: -ELBO per spiral", xlabel="iteration", yscale="log")
    axes[1].plot(latent_history["iteration"], latent_history["nfe"])
    axes[1].set(title="latent ODE: forward NFE (dopri5)", xlabel="iteration")
    axes[2].plot(rnn_history["iteration"], rnn_history["loss"], color="C3")
    axes[2].set(title="RNN: one-step MSE", xlabel="iteration", yscale="log")
    for ax in axes:
        ax.grid(alpha=0.3)
    return figure


def summary_metrics(results: pd.DataFrame) -> dict[str, dict[str, float]]:
    values = {}
    for row in results.to_dict("records"):
        values[f"{row['model']}.interpolation_rmse"] = row["interpolation_rmse"]
        values[f"{row['model']}.extrapolation_rmse"] = row["extrapolation_rmse"]
    return metrics_for_mlflow(values)


def log_model(model: LatentODE) -> LatentODE:
    """The latent ODE for MLflow: ``model(obs, obs_times, times)`` with observations (B, n, 2)
    float at increasing times (B, n), query times (T,) from the window's start (0) ->
    decoded positions (B, T, 2) from the posterior mean."""
    return model.eval()
