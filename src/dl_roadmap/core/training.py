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
    optimizers: null                # several optimizers (below); replaces optimizer and scheduler
    steps_per_epoch: null           # batches per epoch (null = the whole training set); required for a stream
    gradient_clip_val: 1.0          # null = no clipping (by norm; gradient_clip_algorithm: value)
    monitor: val_loss               # val_<name> of any scalar the step or evaluate returns
    mode: min
    early_stopping_patience: 3      # null = run all epochs
    restore_best: true              # return the best monitored epoch's weights (false: the last epoch's)
    checkpoint_dir: null            # null = <trainer.data_root>/06_models/checkpoints
    resume: true                    # continue an interrupted run from its last checkpoint

``trainer_params`` is the shared ``trainer`` block (core/devices.py): accelerator,
devices, precision, strategy, data_root. The step function (and ``evaluate``) must be
defined at module level so that ``ddp_spawn`` workers can import them.

Per epoch, ``train_<k>`` and ``val_<k>`` (epoch means), ``lr`` and ``epoch_seconds`` go to
the active MLflow run as ``<name>/<metric>`` with step = epoch, and to ``result.history``.

**The step's context.** A step with a third parameter (no default) receives a
``StepContext``: ``global_step`` (training batches before this one, over all epochs, kept
across a resume), ``epoch``, ``stage`` ("train" or "val"), ``batch_idx`` and ``optimizer``
(whose turn it is, with several optimizers). A KL weight that warms up, a teacher-forcing
ratio that decays, or a GAN that reads whose turn it is all use it::

    def vae_step(model, batch, context):
        beta = min(1.0, context.global_step / 1000)
        ...

**Streams.** ``train_data`` may be an ``IterableDataset`` (or a DataLoader over one): data
generated on the fly, or read from shards too large to index. A stream has no length, so
``steps_per_epoch`` says how many batches make an epoch (the schedule, checkpoints, early
stopping and history all count in epochs); fit refuses a stream without it. A stream is
never shuffled by fit (it orders its own data), and a validation stream must end.

**Several optimizers** (a GAN's generator and discriminator, an actor and a critic)::

    optimizers:
      discriminator: {params: discriminator, optimizer: {name: Adam, lr: 0.0002}, every: 1}
      generator: {params: generator, optimizer: {name: Adam, lr: 0.0002},
                  scheduler: {name: cosine}, every: 2}     # D:G updates 2:1

``params`` names the submodule (``model.<params>``, dotted for deeper ones) whose
parameters that optimizer trains; no parameter may belong to two. ``every: n`` steps it on
one batch in n (batches 0, n, 2n...), so the ratio of ``every`` values is the update
ratio; each ``scheduler`` spans that optimizer's own number of steps. On each batch, the
optimizers due take their turns in the order listed; on each turn the step is called
afresh with ``context.optimizer`` set to that name and must return ``loss_<name>``,
which is back-propagated into that optimizer's parameters only (the others' parameters
do not require gradients during the turn). So the generator's turn sees the
discriminator as just updated, as in the original GAN algorithm::

    def gan_step(model, batch, context):
        real = batch[0]
        fake = model.generator(torch.randn(len(real), 16, device=real.device))
        if context.optimizer == "discriminator":
            return {"loss_discriminator": bce(model.discriminator(real), 1)
                                          + bce(model.discriminator(fake.detach()), 0)}
        return {"loss_generator": bce(model.discriminator(fake), 1)}   # validation (optimizer None) too

Each turn logs everything it returns except the other optimizers' losses; validation calls
the step once (``context.optimizer`` is None) and logs all it returns. No ``loss`` entry is
needed then, so set ``monitor`` to something the step or ``evaluate`` returns.
Clipping (``gradient_clip_val``) applies to each optimizer's step. Under DDP, fit turns
on the detection of unused parameters (each turn uses one part only).

**Whole-split evaluation.** Some figures are not means of batch values: F1 over all
predictions, FID, word error rate, a ranking metric. ``evaluate(model, batches)`` is
called once at the end of each validation epoch (model in evaluation mode, no gradients)
with the validation batches already on the model's device (``batches.dataset`` is the
split); it returns ``{name: float}``, logged as ``val_<name>`` beside the step's batch
means, so it can be monitored, early-stopped on and restored as the best epoch. Its
names must differ from those the step returns. Under DDP rank zero computes it on the
whole split and every rank logs the same values.

Training that has no data set to iterate (an agent in an environment, federated rounds, a
sequence of tasks) runs through ``core.loop.run_loop`` instead, with the same services.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import lightning.pytorch as L
import pandas as pd
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, TQDMProgressBar
from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, ValidationInfo, field_validator
from torch import nn
from torch.utils.data import DataLoader, Dataset, IterableDataset

from dl_roadmap.core.devices import lightning_trainer_kwargs, trainer_config
from dl_roadmap.core.lightning_module import EpochRecorder, EvaluateFn, StepContext, StepFn, StepModule
from dl_roadmap.core.optim import OptimizerParams, SchedulerParams
from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.schema import Block, schema_problems
from dl_roadmap.core.tracking import RunHandle

__all__ = [
    "FIT_DEFAULTS", "EvaluateFn", "FitParams", "FitResult", "OptimizerEntry", "StepContext", "StepFn",
    "checkpoint_root", "fit", "fit_config",
]

logger = logging.getLogger(__name__)

_ADAMW = OptimizerParams(name="AdamW", lr=1e-3)


class OptimizerEntry(Block):
    """Schema of one entry of ``optimizers``: the submodule it trains and how."""

    params: str  # model.<params> (dotted for deeper parts); "" is the whole model
    optimizer: OptimizerParams = _ADAMW
    scheduler: SchedulerParams = SchedulerParams()
    every: PositiveInt = 1  # steps on one batch in n


class FitParams(Block):
    """Schema of a ``fit`` block (checked before a run starts; see core/schema.py)."""

    max_epochs: PositiveInt = 10
    batch_size: PositiveInt = 128
    seed: NonNegativeInt = 0
    optimizer: OptimizerParams | None = _ADAMW
    scheduler: SchedulerParams | None = SchedulerParams()
    optimizers: dict[str, OptimizerEntry] | None = Field(default=None, validate_default=True)
    steps_per_epoch: PositiveInt | None = None
    gradient_clip_val: PositiveFloat | None = None
    gradient_clip_algorithm: Literal["norm", "value"] = "norm"
    monitor: str = Field(default="val_loss", min_length=1)
    mode: Literal["min", "max"] = "min"
    early_stopping_patience: PositiveInt | None = None
    restore_best: bool = True
    checkpoint_dir: str | None = None
    resume: bool = True
    num_workers: NonNegativeInt = 0

    @field_validator("optimizers")
    @classmethod
    def _one_way_to_optimize(cls, entries: dict[str, OptimizerEntry] | None, info: ValidationInfo) -> Any:
        # optimizer and scheduler come first in the class, so info.data holds them (when valid).
        optimizer, scheduler = info.data.get("optimizer", _ADAMW), info.data.get("scheduler")
        if entries is None:
            if optimizer is None:
                raise ValueError("no optimizer: give optimizer (one) or optimizers (several)")
            return entries
        if not entries:
            raise ValueError("a mapping name -> {params, optimizer, scheduler, every} with at least one entry "
                             "(or null for a single optimizer)")
        names = [name for name in entries if not name.isidentifier()]
        if names:
            raise ValueError(f"the names {names} must be identifiers (the step returns loss_<name>)")
        if optimizer not in (None, _ADAMW) or scheduler not in (None, SchedulerParams()):
            raise ValueError("optimizer and scheduler describe a single optimizer; with optimizers, give each "
                             "entry its own optimizer and scheduler")
        return entries


FIT_DEFAULTS: dict[str, Any] = FitParams().model_dump()
# One entry of ``optimizers``; ``params`` (the submodule's name) has no default.
OPTIMIZER_ENTRY_DEFAULTS: dict[str, Any] = {**OptimizerEntry(params="").model_dump(), "params": None}


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
    train_data: Dataset | DataLoader,
    val_data: Dataset | DataLoader | None = None,
    *,
    step: StepFn,
    name: str,
    fit_params: dict[str, Any] | None = None,
    trainer_params: dict[str, Any] | None = None,
    callbacks: list[Callback] | None = None,
    evaluate: EvaluateFn | None = None,
) -> FitResult:
    """Train ``model`` with ``step`` on ``train_data``; see the module docstring."""
    config = fit_config(fit_params)
    specs = config["optimizers"]
    if specs:
        _check_parts(model, specs)
    if evaluate is not None and val_data is None:
        raise ValueError("fit: evaluate scores the validation split, but no val_data was given")
    if not _sized(train_data) and config["steps_per_epoch"] is None:
        raise ValueError(
            f"fit parameters: steps_per_epoch is required for {name!r}: its training data "
            f"({type(train_data).__name__}) has no len(), so the number of batches in an epoch must be given"
        )
    L.seed_everything(config["seed"], workers=True, verbose=False)
    root = checkpoint_root(config, trainer_params)
    run_dir = root / f"{name}-{_fingerprint(model, train_data, val_data, config)}"
    last = run_dir / "last.ckpt"
    resume_from = str(last) if config["resume"] and last.exists() else None
    if resume_from:
        logger.info("Resuming %s from %s", name, resume_from)

    has_val = val_data is not None
    monitor = config["monitor"] if has_val else None
    checkpoint = ModelCheckpoint(
        dirpath=run_dir, filename="best", monitor=monitor, mode=config["mode"], save_last=True, save_top_k=1
    )
    recorder = EpochRecorder(run_dir / "history.csv", name, RunHandle.current(), list(specs) if specs else None)
    cbs: list[Callback] = [checkpoint, recorder]
    if monitor and config["early_stopping_patience"]:
        cbs.append(EarlyStopping(monitor, patience=int(config["early_stopping_patience"]), mode=config["mode"]))
    trainer_kwargs = lightning_trainer_kwargs(trainer_params)
    if trainer_kwargs["enable_progress_bar"]:
        cbs.append(TQDMProgressBar(refresh_rate=20))
    if config["steps_per_epoch"] is not None:
        trainer_kwargs["limit_train_batches"] = int(config["steps_per_epoch"])
    if specs and trainer_kwargs["strategy"] in ("ddp", "ddp_spawn"):
        # Each optimizer's turn leaves the other parts' parameters unused, which plain DDP refuses.
        trainer_kwargs["strategy"] = f"{trainer_kwargs['strategy']}_find_unused_parameters_true"
    trainer = L.Trainer(
        **trainer_kwargs,
        max_epochs=int(config["max_epochs"]),
        # With several optimizers Lightning cannot clip by itself: the module clips each one.
        gradient_clip_val=None if specs else config["gradient_clip_val"],
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
    val_loader = _loader(val_data, config, shuffle=False) if has_val else None
    module = StepModule(
        model, step, config["optimizer"], config["scheduler"], specs=specs,
        clip=(config["gradient_clip_val"], config["gradient_clip_algorithm"]), evaluate=evaluate, val_loader=val_loader,
    )
    started = time.perf_counter()
    trainer.fit(
        module,
        train_dataloaders=_loader(train_data, config, shuffle=True),
        val_dataloaders=val_loader,
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
    """``params`` over FIT_DEFAULTS (each ``optimizers`` entry over OPTIMIZER_ENTRY_DEFAULTS),
    checked against FitParams; an unknown key or a bad value is an error that names it."""
    config = over_defaults(params, FIT_DEFAULTS, "fit parameters")
    config["optimizers"] = _optimizer_entries(config["optimizers"])
    problems = schema_problems(FitParams, config, "fit")
    if problems:
        raise ValueError("fit parameters failed their schema:\n" + "\n".join(f"- {p}" for p in problems))
    return config


def checkpoint_root(config: dict[str, Any], trainer_params: dict[str, Any] | None) -> Path:
    """``checkpoint_dir``, or ``<trainer.data_root>/06_models/checkpoints`` when it is not set,
    so each run environment keeps its checkpoints under its own data root."""
    if config.get("checkpoint_dir"):
        return Path(config["checkpoint_dir"])
    return Path(trainer_config(trainer_params)["data_root"]) / "06_models" / "checkpoints"


def _optimizer_entries(value: Any) -> dict[str, dict[str, Any]] | None:
    """The ``optimizers`` mapping with each entry over its defaults (FitParams checks them)."""
    if not isinstance(value, Mapping):
        return value
    entries = {}
    for name, entry in value.items():
        where = f"fit parameters: optimizers.{name}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: a mapping {{params, optimizer, scheduler, every}}, got {entry!r}")
        entries[name] = over_defaults(entry, OPTIMIZER_ENTRY_DEFAULTS, where)
    return entries


def _check_parts(model: nn.Module, entries: dict[str, dict[str, Any]]) -> None:
    """Every ``params`` names a submodule, and no parameter belongs to two optimizers."""
    owner: dict[int, str] = {}
    for name, entry in entries.items():
        try:
            part = model.get_submodule(entry["params"])
        except AttributeError as error:
            raise ValueError(f"fit parameters: optimizers.{name}.params: the model has no submodule "
                             f"{entry['params']!r}") from error
        for parameter in part.parameters():
            if id(parameter) in owner:
                raise ValueError(f"fit parameters: optimizers.{name} and optimizers.{owner[id(parameter)]} "
                                 f"share parameters; each parameter needs exactly one optimizer")
            owner[id(parameter)] = name


def _loader(data: Dataset | DataLoader, config: dict[str, Any], shuffle: bool) -> DataLoader:
    if isinstance(data, DataLoader):
        return data
    workers = int(config["num_workers"])
    return DataLoader(
        data,
        batch_size=int(config["batch_size"]),
        # A stream orders its own data; DataLoader refuses to shuffle one.
        shuffle=shuffle and not isinstance(data, IterableDataset),
        num_workers=workers,
        persistent_workers=workers > 0,
    )


def _sized(data: Any) -> bool:
    try:
        len(data)
    except TypeError:
        return False
    return True


def _fingerprint(model: nn.Module, train: Any, val: Any, config: dict[str, Any]) -> str:
    """Same model, data and fit parameters -> same checkpoint folder, so only a matching run
    resumes from it."""
    key = json.dumps(
        [repr(model), _data_key(train), _data_key(val) if val is not None else 0, config], sort_keys=True, default=str
    )
    return hashlib.sha1(key.encode()).hexdigest()[:10]


def _data_key(data: Any) -> Any:
    """A data set's size; for a stream, its class and plain settings.

    A stream has no len(), and reading it to count or hash its items would consume it (or
    never end), so it is identified by what can be read without iterating: the class of
    the dataset, its public scalar attributes (a seed, a sequence length) and the loader's
    batch size. Two streams alike in all of these share a checkpoint folder: give their
    runs different names.
    """
    if _sized(data):
        return len(data)
    dataset = data.dataset if isinstance(data, DataLoader) else data
    settings = {key: value for key, value in getattr(dataset, "__dict__", {}).items()
                if not key.startswith("_") and isinstance(value, (bool, int, float, str))}
    kind = type(dataset)
    return [f"{kind.__module__}.{kind.__qualname__}", settings, getattr(data, "batch_size", None)]
