"""The Lightning side of ``core.training.fit``: a plain module and a step function wrapped
into a LightningModule, the step's context, and the per-epoch history recorder.

Learners read ``core/training.py``; this module holds the machinery it documents.
"""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import lightning.pytorch as L
import pandas as pd
import torch
from lightning.pytorch.callbacks import Callback
from torch import nn

from dl_roadmap.core.optim import build_optimizer, build_scheduler
from dl_roadmap.core.tracking import RunHandle

StepFn = Callable[..., dict[str, torch.Tensor]]
EvaluateFn = Callable[[nn.Module, Any], dict[str, float]]


@dataclass(frozen=True)
class StepContext:
    """Where training stands when the step is called (the step's optional third argument)."""

    global_step: int  # training batches completed before this one, over all epochs (survives a resume)
    epoch: int  # 0-based
    stage: str  # "train" or "val"
    batch_idx: int  # index of the batch within its epoch
    optimizer: str | None = None  # with several optimizers: whose turn this training call is


def accepts_context(step: StepFn) -> bool:
    """True when ``step`` has a third positional parameter without a default.

    A third parameter *with* a default (``classification_step(model, batch, augment=None)``)
    is a setting, not a request for the context, so it never receives one.
    """
    try:
        parameters = inspect.signature(step).parameters.values()
    except (TypeError, ValueError):  # some builtins and C callables have no signature
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in parameters if p.kind in positional and p.default is inspect.Parameter.empty]
    return len(required) >= 3


class StepModule(L.LightningModule):
    """Wraps a plain module and a step function into Lightning's interface.

    One optimizer: Lightning's automatic optimization (backward, clipping, scheduler).
    Several (``specs``, see training.py): manual optimization, one turn per optimizer due.
    """

    def __init__(self, model: nn.Module, step: StepFn, optimizer: dict, scheduler: dict | None, *,
                 specs: dict[str, dict[str, Any]] | None = None, clip: tuple[float | None, str] = (None, "norm"),
                 evaluate: EvaluateFn | None = None, val_loader: Any = None):
        super().__init__()
        self.model = model
        self.step = step
        self.optimizer_params = dict(optimizer)
        self.scheduler_params = dict(scheduler or {"name": "none"})
        self.specs = dict(specs or {})
        self.automatic_optimization = not self.specs
        self.clip_value, self.clip_algorithm = clip
        self.evaluate, self.val_loader = evaluate, val_loader
        self.with_context = accepts_context(step)
        self.batches_done = 0  # StepContext.global_step; saved in checkpoints
        self._schedulers: list[Any] = []
        self._val_keys: set[str] = set()

    # --------------------------------------------------------------------- steps
    def _call(self, batch: Any, stage: str, batch_idx: int, optimizer: str | None = None) -> dict[str, torch.Tensor]:
        if not self.with_context:
            return self.step(self.model, batch)
        context = StepContext(self.batches_done, self.current_epoch, stage, batch_idx, optimizer)
        return self.step(self.model, batch, context)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor | None:
        if self.automatic_optimization:
            out = self._call(batch, "train", batch_idx)
            self._log_scalars("train", out, batch)
            return out["loss"]
        optimizers = self.optimizers()
        optimizers = optimizers if isinstance(optimizers, list) else [optimizers]
        for (name, spec), optimizer, scheduler in zip(self.specs.items(), optimizers, self._schedulers):
            if self.batches_done % spec["every"]:
                continue
            # Parameters of the other optimizers stop requiring gradients for this turn, so
            # the generator's backward pass leaves the discriminator's gradients alone.
            self.toggle_optimizer(optimizer)
            out = self._call(batch, "train", batch_idx, name)
            key = f"loss_{name}"
            if key not in out:
                raise KeyError(f"the step must return {key!r} on the turn of optimizer {name!r}, got {sorted(out)}")
            optimizer.zero_grad()
            self.manual_backward(out[key])
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            self.untoggle_optimizer(optimizer)
            # Another optimizer's loss returned on this turn was measured before its own
            # update: only its own turn logs it.
            others = {f"loss_{other}" for other in self.specs} - {key}
            self._log_values("train", {k: v for k, v in out.items() if k not in others}, batch)
        return None

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        self.batches_done += 1

    def on_before_optimizer_step(self, optimizer: Any) -> None:
        # Lightning clips by itself only under automatic optimization. Here, after the
        # precision plugin has unscaled the gradients, the same clipping applies per optimizer.
        if not self.automatic_optimization and self.clip_value:
            self.clip_gradients(optimizer, gradient_clip_val=self.clip_value,
                                gradient_clip_algorithm=self.clip_algorithm)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        out = self._call(batch, "val", batch_idx)
        self._val_keys.update(out)
        if self.automatic_optimization:
            self._log_scalars("val", out, batch)
        else:
            self._log_values("val", out, batch)

    def on_validation_epoch_end(self) -> None:
        """The whole-split evaluation: rank zero computes it, every rank logs the same values."""
        if self.evaluate is None:
            return
        values = None
        if self.trainer.is_global_zero:
            with torch.no_grad():
                values = dict(self.evaluate(self.model, DeviceBatches(self.val_loader, self.device)))
        values = self.trainer.strategy.broadcast(values, src=0)
        clash = sorted(set(values) & self._val_keys)
        if clash:
            raise ValueError(f"evaluate returned {clash}, which the step also returns: rename one of them")
        for key, value in values.items():
            if not isinstance(value, (int, float, torch.Tensor)) or torch.as_tensor(value).numel() != 1:
                raise TypeError(f"evaluate must return scalars, got {key}={value!r}")
            self.log(f"val_{key}", float(value), on_step=False, on_epoch=True)

    def _log_scalars(self, stage: str, out: dict[str, torch.Tensor], batch: Any) -> None:
        if "loss" not in out:
            raise KeyError(f"the step function must return a 'loss' entry, got {sorted(out)}")
        self._log_values(stage, out, batch)

    def _log_values(self, stage: str, out: dict[str, torch.Tensor], batch: Any) -> None:
        scalars = {f"{stage}_{key}": value.detach() if key.startswith("loss") and torch.is_tensor(value) else value
                   for key, value in out.items()}
        self.log_dict(scalars, on_step=False, on_epoch=True, batch_size=batch_size(batch), sync_dist=True)

    # --------------------------------------------------------------------- optimizers
    def configure_optimizers(self) -> Any:
        if self.automatic_optimization:
            optimizer = build_optimizer(self.model, self.optimizer_params)
            scheduler = build_scheduler(optimizer, self.scheduler_params, self.trainer.estimated_stepping_batches)
            if scheduler is None:
                return optimizer
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
        batches = self.trainer.estimated_stepping_batches
        configs, self._schedulers = [], []
        for name, spec in self.specs.items():
            optimizer = build_optimizer(self.model.get_submodule(spec["params"]), spec["optimizer"])
            # This optimizer steps on one batch in `every`: its schedule spans that many steps.
            scheduler = build_scheduler(optimizer, spec["scheduler"], math.ceil(batches / spec["every"]))
            self._schedulers.append(scheduler)
            configs.append({"optimizer": optimizer} if scheduler is None
                           else {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}})
        return configs

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["batches_done"] = self.batches_done

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.batches_done = int(checkpoint.get("batches_done", 0))


class DeviceBatches:
    """The validation loader's batches moved to the model's device; iterable many times."""

    def __init__(self, loader: Any, device: torch.device):
        self.loader, self.device = loader, device

    def __iter__(self) -> Iterator[Any]:
        from lightning.fabric.utilities import move_data_to_device

        for batch in self.loader:
            yield move_data_to_device(batch, self.device)

    def __len__(self) -> int:
        return len(self.loader)

    @property
    def dataset(self) -> Any:
        return self.loader.dataset


class EpochRecorder(Callback):
    """Rank zero writes one history row per epoch to CSV and to MLflow (step = epoch)."""

    def __init__(self, path: Path, prefix: str, run: RunHandle | None, optimizer_names: list[str] | None = None):
        self.path, self.prefix, self.run = Path(path), prefix, run
        self.optimizer_names = optimizer_names
        self._epoch_start = 0.0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # After a resume, drop rows of epochs that will be trained again.
        if trainer.is_global_zero and self.path.exists():
            rows = pd.read_csv(self.path)
            rows[rows["epoch"] < trainer.current_epoch].to_csv(self.path, index=False)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_start = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        row = {key: float(value) for key, value in trainer.callback_metrics.items()}
        # One optimizer: lr (and lr_<part> for lr_scale groups); several: lr_<optimizer>[_<part>].
        for index, optimizer in enumerate(trainer.optimizers):
            prefix = "lr" if self.optimizer_names is None else f"lr_{self.optimizer_names[index]}"
            for group in optimizer.param_groups:
                name = group.get("name", "base")
                row[prefix if name == "base" else f"{prefix}_{name}"] = group["lr"]
        row["epoch_seconds"] = time.perf_counter() - self._epoch_start
        epoch = trainer.current_epoch
        if self.run is not None:
            self.run.log_metrics({f"{self.prefix}/{key}": value for key, value in row.items()}, step=epoch)
        frame = pd.DataFrame([{"epoch": epoch, **row}])
        if self.path.exists():
            frame = pd.concat([pd.read_csv(self.path), frame], ignore_index=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(self.path, index=False)


def batch_size(batch: Any) -> int:
    first = batch[0] if isinstance(batch, (list, tuple)) else batch
    return int(first.shape[0]) if hasattr(first, "shape") else 1
