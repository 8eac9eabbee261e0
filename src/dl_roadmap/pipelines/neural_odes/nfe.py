"""Counting the function evaluations (NFE) an ODE block costs while it trains.

An adaptive solver picks its own number of steps, so the cost of an ODE-Net is not fixed
by its architecture: Chen et al. (Figure 3) show the forward NFE growing as training goes
on, and the backward (adjoint) NFE at roughly half to twice the forward one. Every
ConvDynamics counts its calls (``nfe``); this Lightning callback reads the counter before
the backward pass (the forward NFE of the batch) and after it (the backward NFE), and
keeps both per batch and averages them per epoch.
"""

from __future__ import annotations

import lightning.pytorch as pl
import pandas as pd

from dl_roadmap.core.tracking import log_metrics
from dl_roadmap.pipelines.neural_odes.models import ConvDynamics


def _dynamics(module: pl.LightningModule) -> list[ConvDynamics]:
    return [m for m in module.modules() if isinstance(m, ConvDynamics)]


def _calls(module: pl.LightningModule) -> int:
    return sum(d.nfe for d in _dynamics(module))


class NFECounter(pl.Callback):
    """Mean forward and backward NFE per training batch, one row per epoch (``rows``);
    also logged to MLflow as ``<name>/nfe_forward`` and ``<name>/nfe_backward``."""

    def __init__(self, name: str):
        self.name, self.rows, self.batches = name, [], []
        self._start = self._after_forward = 0
        self._forward: list[int] = []
        self._backward: list[int] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._start = _calls(pl_module)

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        self._after_forward = _calls(pl_module)
        self._forward.append(self._after_forward - self._start)

    def on_after_backward(self, trainer, pl_module) -> None:
        self._backward.append(_calls(pl_module) - self._after_forward)
        self.batches.append({"batch": len(self.batches), "epoch": trainer.current_epoch,
                             "nfe_forward": self._forward[-1], "nfe_backward": self._backward[-1]})

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if not self._forward:
            return
        row = {"epoch": trainer.current_epoch,
               "nfe_forward": sum(self._forward) / len(self._forward),
               "nfe_backward": sum(self._backward) / max(len(self._backward), 1)}
        self.rows.append(row)
        log_metrics({f"{self.name}/nfe_forward": row["nfe_forward"],
                     f"{self.name}/nfe_backward": row["nfe_backward"]}, step=row["epoch"])
        self._forward, self._backward = [], []

    def table(self) -> pd.DataFrame:
        """One row per training batch: batch, epoch, nfe_forward, nfe_backward."""
        return pd.DataFrame(self.batches, columns=["batch", "epoch", "nfe_forward", "nfe_backward"])
