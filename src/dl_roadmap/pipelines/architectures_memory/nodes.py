"""Nodes of architectures_memory: the adding problem at each length for each cell, trained
by ``core.training.fit``, scored on held-out sequences; the table, the plot, the metrics."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import EarlyStopping
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.pipelines.architectures_memory.models import MEAN_PREDICTOR_MSE, LastStepRegressor, adding_problem

logger = logging.getLogger(__name__)


def regression_step(model: nn.Module, batch: Any) -> dict[str, torch.Tensor]:
    """Mean squared error of the predicted sum."""
    inputs, targets = batch
    return {"loss": F.mse_loss(model(inputs), targets)}


def memory_study(params: dict[str, Any], trainer: dict[str, Any]) -> tuple[pd.DataFrame, nn.Module]:
    """The adding problem at each of ``lengths`` for each of ``cells``.

    A training stops early once the validation MSE is below ``stop_mse`` (solved; null =
    never), else after the fit budget. Returns one row per (cell, length): test MSE on
    ``test_size`` fresh sequences, the mean predictor's 0.167, solved (test MSE below
    ``solved_mse``), the updates used and seconds; and the model of the last row (the
    longest length's last cell), logged to MLflow.
    """
    trainer = {**trainer, "num_threads": params.get("threads") or trainer.get("num_threads")}
    rows, model = [], None
    for length in params["lengths"]:
        train = adding_problem(params["train_size"], length, seed=params["seed"])
        val = adding_problem(params["test_size"], length, seed=params["seed"] + 1)
        test = adding_problem(params["test_size"], length, seed=params["seed"] + 2)
        for cell in params["cells"]:
            model = LastStepRegressor(cell, params["hidden_size"], seed=params["fit"].get("seed", 0),
                                      forget_bias=params.get("lstm_forget_bias", 1.0))
            stop = ([EarlyStopping(monitor="val_loss", mode="min", stopping_threshold=params["stop_mse"],
                                   patience=10**6)] if params.get("stop_mse") else [])
            result = fit(model, train, val, step=regression_step, name=f"adding/{cell}_T{length}",
                         fit_params=params["fit"], trainer_params=trainer, callbacks=stop)
            model = result.model
            with torch.no_grad():
                mse = float(F.mse_loss(model(test.tensors[0]), test.tensors[1]))
            batches = -(-len(train) // int(params["fit"]["batch_size"]))
            rows.append({"cell": cell, "length": length, "test_mse": mse, "mean_predictor_mse": MEAN_PREDICTOR_MSE,
                         "solved": bool(mse < params["solved_mse"]), "updates": len(result.history) * batches,
                         "seconds": round(result.seconds, 1)})
            logger.info("adding T=%d %s: test MSE %.4f after %d updates", length, cell, mse, rows[-1]["updates"])
    return pd.DataFrame(rows), model.eval()


def memory_figure(results: pd.DataFrame, solved_mse: float) -> Figure:
    """Test MSE against sequence length per cell, with the mean predictor and the threshold."""
    figure = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = figure.subplots()
    for cell, group in results.groupby("cell", sort=False):
        group = group.sort_values("length")
        ax.plot(group["length"], group["test_mse"], marker="o", label=cell)
    ax.axhline(MEAN_PREDICTOR_MSE, color="grey", ls="--", label="always 1 (MSE 0.167)")
    ax.axhline(solved_mse, color="green", ls=":", label=f"solved (MSE < {solved_mse:g})")
    lengths = sorted(results["length"].unique())
    ax.set(xscale="log", yscale="log", xlabel="sequence length T", ylabel="test MSE",
           title="Adding problem: carrying a value across T steps")
    ax.set_xticks(lengths, [str(v) for v in lengths])
    ax.set_xticks([], minor=True)  # no minor labels between the lengths on the log axis
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def memory_metrics(results: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Test MSE per cell and length, and the longest length each cell solved, for MLflow."""
    values: dict[str, float] = {}
    for row in results.itertuples():
        values[f"{row.cell}_T{row.length}_test_mse"] = row.test_mse
    for cell, group in results.groupby("cell"):
        solved = group.loc[group["solved"], "length"]
        values[f"{cell}_longest_solved"] = float(solved.max()) if len(solved) else 0.0
    return metrics_for_mlflow({k: float(np.asarray(v)) for k, v in values.items()})


def log_model(model: nn.Module) -> nn.Module:
    """The regressor handed to MLflow: input float (N, T, 2) = (value, mark) per step,
    output the predicted sum (N,)."""
    return model.eval()
