"""Lightning callbacks handed to ``fit(..., callbacks=[...])``: what happens at each step.

- ``StepRecorder``: the loss of every training batch, and the gradient norms (total, and
  per named layer) just before each optimizer step, i.e. after backward and *before*
  Lightning's gradient clipping, so a clipped run still shows the spikes it had to tame.
- ``WeightEMA``: a bias-corrected exponential moving average of the weights, updated after
  every optimizer step and scored against the raw weights at the end of every epoch.
"""

from __future__ import annotations

import copy
from typing import Any

import lightning.pytorch as L
import pandas as pd
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback
from torch import nn

from dl_roadmap.pipelines.optimization.averages import WeightAverage


def gradient_norm(parameters: list[torch.Tensor]) -> float:
    """‖g‖₂ over all the given parameters' gradients (0 when none has one)."""
    grads = [p.grad.detach().double().flatten() for p in parameters if p.grad is not None]
    return float(torch.cat(grads).norm()) if grads else 0.0


class StepRecorder(Callback):
    """One row per optimizer step: ``step``, ``epoch``, ``loss``, ``grad_norm`` (all
    parameters) and ``grad_norm/<layer>`` for each entry of ``layers``.

    Args:
        layers: label -> parameter (e.g. ``{"1": first_linear.weight, ...}``), or None.
    """

    def __init__(self, layers: dict[str, torch.Tensor] | None = None):
        self.layers = dict(layers or {})
        self.rows: list[dict[str, Any]] = []
        self._pending: dict[str, Any] = {}

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Any) -> None:
        self._pending = {"step": trainer.global_step, "epoch": trainer.current_epoch,
                         "grad_norm": gradient_norm(list(pl_module.parameters()))}
        for label, parameter in self.layers.items():
            self._pending[f"grad_norm/{label}"] = gradient_norm([parameter])

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        self.rows.append({**self._pending, "loss": float(loss)})
        self._pending = {}

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


@torch.no_grad()
def score(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 2048) -> dict[str, float]:
    """Accuracy and mean cross-entropy of ``model`` while it trains: unlike
    ``core.inference.classification_scores`` it leaves the model on its device and in the
    mode it was in."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    logits = torch.cat([model(images[i : i + batch_size].to(device)).float().cpu()
                        for i in range(0, len(images), batch_size)])
    model.train(was_training)
    return {"acc": float((logits.argmax(1) == labels).float().mean()), "loss": float(F.cross_entropy(logits, labels))}


class WeightEMA(Callback):
    """Keeps a bias-corrected EMA of ``pl_module.model``'s weights (see averages.py).

    At the end of every training epoch, the raw and the averaged weights are scored on
    ``images``/``labels`` (rows: epoch, raw_acc, raw_loss, ema_acc, ema_loss); at the end
    of training ``raw_state`` and ``ema_state`` hold the last weights and their average.
    """

    def __init__(self, beta: float, images: torch.Tensor, labels: torch.Tensor):
        self.beta, self.images, self.labels = float(beta), images, labels
        self.average: WeightAverage | None = None
        self.rows: list[dict[str, float]] = []
        self.raw_state: dict[str, torch.Tensor] | None = None
        self.ema_state: dict[str, torch.Tensor] | None = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.average = WeightAverage(pl_module.model, self.beta)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        self.average.update(pl_module.model)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        raw = score(pl_module.model, self.images, self.labels)
        averaged = copy.deepcopy(pl_module.model)
        averaged.load_state_dict(self.average.averaged(pl_module.model))
        ema = score(averaged, self.images, self.labels)
        self.rows.append({"epoch": trainer.current_epoch, **{f"raw_{k}": v for k, v in raw.items()},
                          **{f"ema_{k}": v for k, v in ema.items()}})

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.raw_state = {k: v.detach().cpu().clone() for k, v in pl_module.model.state_dict().items()}
        self.ema_state = {k: v.detach().cpu().clone() for k, v in self.average.averaged(pl_module.model).items()}

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)
