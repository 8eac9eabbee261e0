"""``fit``: the one training entry point every roadmap area trains through.

An area supplies a plain ``nn.Module``, its data as torch Datasets and a *step function*
that turns a batch into named scalars, one of them ``loss``::

    def classification_step(model, batch):
        images, labels = batch
        logits = model(images)
        return {"loss": F.cross_entropy(logits, labels),
                "acc": (logits.argmax(1) == labels).float().mean()}

    result = fit(model, train_set, val_set, step=classification_step, name="classifier",
                 fit_params=params["classifier"]["fit"], trainer_params=params["trainer"])
    result.model, result.history  # trained module (best epoch), one row per epoch

Everything else comes from parameters. ``fit_params`` (defaults in FIT_DEFAULTS)::

    max_epochs: 10
    batch_size: 128
    seed: 0
    optimizer: {name: AdamW, lr: 0.001, weight_decay: 0.0001}   # see core/optim.py
    scheduler: {name: onecycle}                                  # none | onecycle | cosine | step
    gradient_clip_val: 1.0          # null = no clipping (by norm; gradient_clip_algorithm: value)
    monitor: val_loss               # val_<name> of any scalar the step returns
    mode: min
    early_stopping_patience: 3      # null = run all epochs
    restore_best: true              # return the best monitored epoch's weights (false: the last epoch's)
    checkpoint_dir: data/06_models/checkpoints
    resume: true                    # continue an interrupted run from its last checkpoint

``trainer_params`` is the shared ``trainer`` block (core/devices.py): accelerator,
devices, precision, strategy. The step function must be defined at module level so that
``ddp_spawn`` workers can import it.

Per epoch, ``train_<k>`` and ``val_<k>`` (epoch means), ``lr`` and ``epoch_seconds`` go to
the active MLflow run as ``<name>/<metric>`` with step = epoch, and to ``result.history``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import lightning.pytorch as L
import pandas as pd
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, TQDMProgressBar
from torch import nn
from torch.utils.data import DataLoader, Dataset

from dl_roadmap.core.devices import lightning_trainer_kwargs
from dl_roadmap.core.optim import build_optimizer, build_scheduler
from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.tracking import RunHandle

logger = logging.getLogger(__name__)

StepFn = Callable[[nn.Module, Any], dict[str, torch.Tensor]]

FIT_DEFAULTS: dict[str, Any] = {
    "max_epochs": 10,
    "batch_size": 128,
    "seed": 0,
    "optimizer": {"name": "AdamW", "lr": 1e-3},
    "scheduler": {"name": "none"},
    "gradient_clip_val": None,
    "gradient_clip_algorithm": "norm",
    "monitor": "val_loss",
    "mode": "min",
    "early_stopping_patience": None,
    "restore_best": True,
    "checkpoint_dir": "data/06_models/checkpoints",
    "resume": True,
    "num_workers": 0,
}


@dataclass
class FitResult:
    """What ``fit`` returns."""

    model: nn.Module  # on CPU, eval mode, weights of the best monitored epoch (restore_best) or the last
    history: pd.DataFrame  # one row per epoch: epoch, train_*, val_*, lr (lr_<part> for lr_scale groups), epoch_seconds
    best_score: float | None  # best value of the monitored metric
    stopped_early: bool
    resumed_from: str | None  # checkpoint this run continued from, if any
    seconds: float  # wall time of this call


def fit(
    model: nn.Module,
    train_data: Dataset,
    val_data: Dataset | None = None,
    *,
    step: StepFn,
    name: str,
    fit_params: dict[str, Any] | None = None,
    trainer_params: dict[str, Any] | None = None,
    callbacks: list[Callback] | None = None,
) -> FitResult:
    """Train ``model`` with ``step`` on ``train_data``; see the module docstring."""
    config = fit_config(fit_params)
    L.seed_everything(config["seed"], workers=True, verbose=False)
    run_dir = Path(config["checkpoint_dir"]) / f"{name}-{_fingerprint(model, train_data, val_data, config)}"
    last = run_dir / "last.ckpt"
    resume_from = str(last) if config["resume"] and last.exists() else None
    if resume_from:
        logger.info("Resuming %s from %s", name, resume_from)

    has_val = val_data is not None
    monitor = config["monitor"] if has_val else None
    checkpoint = ModelCheckpoint(
        dirpath=run_dir, filename="best", monitor=monitor, mode=config["mode"], save_last=True, save_top_k=1
    )
    cbs: list[Callback] = [checkpoint, _EpochRecorder(run_dir / "history.csv", name, RunHandle.current())]
    if monitor and config["early_stopping_patience"]:
        cbs.append(EarlyStopping(monitor, patience=int(config["early_stopping_patience"]), mode=config["mode"]))
    trainer_kwargs = lightning_trainer_kwargs(trainer_params)
    if trainer_kwargs["enable_progress_bar"]:
        cbs.append(TQDMProgressBar(refresh_rate=20))
    trainer = L.Trainer(
        **trainer_kwargs,
        max_epochs=int(config["max_epochs"]),
        gradient_clip_val=config["gradient_clip_val"],
        gradient_clip_algorithm=config["gradient_clip_algorithm"],
        callbacks=cbs + list(callbacks or []),
        logger=False,
        default_root_dir=run_dir,
        num_sanity_val_steps=0,
        enable_model_summary=False,
    )
    # Lightning only restores modes around validation, so a model that arrives in evaluation
    # mode (restored from disk, returned by an earlier fit) would train without dropout or
    # augmentation: training starts in training mode.
    model.train()
    module = _StepModule(model, step, config["optimizer"], config["scheduler"])
    started = time.perf_counter()
    trainer.fit(
        module,
        train_dataloaders=_loader(train_data, config, shuffle=True),
        val_dataloaders=_loader(val_data, config, shuffle=False) if has_val else None,
        ckpt_path=resume_from,
    )
    if trainer.interrupted:
        raise RuntimeError(f"training of {name!r} was interrupted; run again to resume from {run_dir}")

    history = pd.read_csv(run_dir / "history.csv") if (run_dir / "history.csv").exists() else pd.DataFrame()
    best_score = None
    if monitor and checkpoint.best_model_path and Path(checkpoint.best_model_path).exists():
        if config["restore_best"]:
            state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=False)
            module.load_state_dict(state["state_dict"])
        best_score = float(history[monitor].min() if config["mode"] == "min" else history[monitor].max())
    stopped_early = len(history) < int(config["max_epochs"])
    # The run finished: its checkpoints only existed to survive an interruption.
    shutil.rmtree(run_dir, ignore_errors=True)
    return FitResult(
        model=module.model.cpu().eval(),
        history=history,
        best_score=best_score,
        stopped_early=stopped_early,
        resumed_from=resume_from,
        seconds=time.perf_counter() - started,
    )


def fit_config(params: dict[str, Any] | None) -> dict[str, Any]:
    """``params`` over FIT_DEFAULTS; an unknown key is an error that names it."""
    config = over_defaults(params, FIT_DEFAULTS, "fit parameters")
    for key in ("max_epochs", "batch_size"):
        if not isinstance(config[key], int) or config[key] < 1:
            raise ValueError(f"fit parameters: {key} must be a positive integer, got {config[key]!r}")
    if config["mode"] not in ("min", "max"):
        raise ValueError(f"fit parameters: mode must be 'min' or 'max', got {config['mode']!r}")
    return config


class _StepModule(L.LightningModule):
    """Wraps a plain module and a step function into Lightning's interface."""

    def __init__(self, model: nn.Module, step: StepFn, optimizer: dict, scheduler: dict | None):
        super().__init__()
        self.model = model
        self.step = step
        self.optimizer_params = dict(optimizer)
        self.scheduler_params = dict(scheduler or {"name": "none"})

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        out = self.step(self.model, batch)
        self._log_scalars("train", out, batch)
        return out["loss"]

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._log_scalars("val", self.step(self.model, batch), batch)

    def _log_scalars(self, stage: str, out: dict[str, torch.Tensor], batch: Any) -> None:
        if "loss" not in out:
            raise KeyError(f"the step function must return a 'loss' entry, got {sorted(out)}")
        size = _batch_size(batch)
        scalars = {f"{stage}_{key}": value.detach() if key == "loss" else value for key, value in out.items()}
        self.log_dict(scalars, on_step=False, on_epoch=True, batch_size=size, sync_dist=True)

    def configure_optimizers(self) -> Any:
        optimizer = build_optimizer(self.model, self.optimizer_params)
        scheduler = build_scheduler(optimizer, self.scheduler_params, self.trainer.estimated_stepping_batches)
        if scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


class _EpochRecorder(Callback):
    """Rank zero writes one history row per epoch to CSV and to MLflow (step = epoch)."""

    def __init__(self, path: Path, prefix: str, run: RunHandle | None):
        self.path, self.prefix, self.run = Path(path), prefix, run
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
        for group in trainer.optimizers[0].param_groups:
            name = group.get("name", "base")
            row["lr" if name == "base" else f"lr_{name}"] = group["lr"]
        row["epoch_seconds"] = time.perf_counter() - self._epoch_start
        epoch = trainer.current_epoch
        if self.run is not None:
            self.run.log_metrics({f"{self.prefix}/{key}": value for key, value in row.items()}, step=epoch)
        frame = pd.DataFrame([{"epoch": epoch, **row}])
        if self.path.exists():
            frame = pd.concat([pd.read_csv(self.path), frame], ignore_index=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(self.path, index=False)


def _loader(data: Dataset | DataLoader, config: dict[str, Any], shuffle: bool) -> DataLoader:
    if isinstance(data, DataLoader):
        return data
    return DataLoader(
        data,
        batch_size=int(config["batch_size"]),
        shuffle=shuffle,
        num_workers=int(config["num_workers"]),
        persistent_workers=int(config["num_workers"]) > 0,
    )


def _batch_size(batch: Any) -> int:
    first = batch[0] if isinstance(batch, (list, tuple)) else batch
    return int(first.shape[0]) if hasattr(first, "shape") else 1


def _fingerprint(model: nn.Module, train: Any, val: Any, config: dict[str, Any]) -> str:
    """Same model, data sizes and fit parameters -> same checkpoint folder, so only a
    matching run resumes from it."""
    key = json.dumps(
        [repr(model), len(train), len(val) if val is not None else 0, config], sort_keys=True, default=str
    )
    return hashlib.sha1(key.encode()).hexdigest()[:10]
