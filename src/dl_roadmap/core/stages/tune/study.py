"""Optuna plumbing: storage, sampler and pruner from parameters, and the pruning callback.

The ``study`` parameter block::

    study:
      name: classifier            # the study's name inside the storage
      storage: null               # null = sqlite file under data/07_model_output/<area>/;
                                  # postgresql://user:password@host:5432/db for several workers
      n_trials: 12                # target number of finished (complete + pruned) trials;
                                  # a re-run continues the study up to it (raise it to search more)
      timeout: null               # seconds this worker may spend (null = no limit)
      sampler: {name: tpe, seed: 0}            # tpe | random | grid | gp | cmaes (+ their options)
      pruner: {name: median, n_startup_trials: 3, n_warmup_steps: 1}   # median | percentile | hyperband |
                                  # successive_halving | threshold ({lower, upper}) | none
      heartbeat_seconds: 30       # a running trial silent for 2x this belongs to a dead worker:
      max_retries: 2              # it is marked failed and re-queued with the same parameters
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any

import lightning.pytorch as L
import optuna

from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.stages.tune.search_space import grid_values

logger = logging.getLogger(__name__)

STUDY_DEFAULTS: dict[str, Any] = {
    "name": "study",
    "storage": None,
    "n_trials": 10,
    "timeout": None,
    "sampler": {"name": "tpe", "seed": 0},
    "pruner": {"name": "median"},
    "heartbeat_seconds": 30,
    "max_retries": 2,
}

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


def study_config(params: dict[str, Any] | None) -> dict[str, Any]:
    """``params`` over STUDY_DEFAULTS; unknown keys and bad values are errors naming the key."""
    config = over_defaults(params, STUDY_DEFAULTS, "study")
    if not isinstance(config["n_trials"], int) or config["n_trials"] < 1:
        raise ValueError(f"study.n_trials: must be a positive integer, got {config['n_trials']!r}")
    if not isinstance(config["heartbeat_seconds"], int) or config["heartbeat_seconds"] < 1:
        raise ValueError(f"study.heartbeat_seconds: must be a positive integer, got {config['heartbeat_seconds']!r}")
    return config


def storage_url(config: dict[str, Any], default_dir: str | Path) -> str:
    """The configured storage URL, or a SQLite file in ``default_dir`` (created)."""
    if config["storage"]:
        return str(config["storage"])
    folder = Path(default_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'optuna.db'}"


def open_storage(url: str, config: dict[str, Any]) -> optuna.storages.RDBStorage:
    """An RDB storage whose running trials send heartbeats, so that the trials of a
    killed worker are failed and retried by whichever worker looks next."""
    # Heartbeats and retries are marked experimental in Optuna; they are what makes a killed
    # worker's trial come back, so they are used on purpose.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(3):
        try:
            return optuna.storages.RDBStorage(
                url,
                heartbeat_interval=config["heartbeat_seconds"],
                grace_period=2 * config["heartbeat_seconds"],
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=config["max_retries"]
                ),
            )
        except SQLAlchemyError:
            # Workers started together on an empty database race to create Optuna's
            # tables; the loser finds them made on its next attempt.
            if attempt == 2:
                raise
            time.sleep(1.0 + attempt)
    raise AssertionError("unreachable")


def build_sampler(params: dict[str, Any] | None, space: dict[str, dict[str, Any]]) -> optuna.samplers.BaseSampler:
    """A sampler by name; the remaining keys are its keyword arguments."""
    options = dict(params or {"name": "tpe"})
    name = str(options.pop("name", "tpe")).lower()
    if name == "tpe":
        return optuna.samplers.TPESampler(**options)
    if name == "random":
        return optuna.samplers.RandomSampler(**options)
    if name == "grid":
        return optuna.samplers.GridSampler(grid_values(space), **options)
    if name == "gp":
        return optuna.samplers.GPSampler(**options)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(**options)
    raise ValueError(f"study.sampler.name: unknown sampler {name!r}; use tpe, random, grid, gp or cmaes")


def build_pruner(params: dict[str, Any] | None) -> optuna.pruners.BasePruner:
    """A pruner by name; the remaining keys are its keyword arguments."""
    options = dict(params or {"name": "median"})
    name = str(options.pop("name", "median")).lower()
    pruners = {
        "median": optuna.pruners.MedianPruner,
        "percentile": optuna.pruners.PercentilePruner,
        "hyperband": optuna.pruners.HyperbandPruner,
        "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
        "threshold": optuna.pruners.ThresholdPruner,  # e.g. {lower: 100.0}: an episode return too low to catch up
        "none": optuna.pruners.NopPruner,
    }
    if name not in pruners:
        raise ValueError(f"study.pruner.name: unknown pruner {name!r}; use one of {sorted(pruners)}")
    return pruners[name](**options)


class PruningCallback(L.Callback):
    """Reports the monitored validation metric to the trial after each validation and
    stops training when the pruner says so.

    It stops through ``trainer.should_stop`` rather than raising, so that ``fit`` ends
    normally (and removes its checkpoints); the caller then raises ``TrialPruned``.
    """

    def __init__(self, trial: optuna.Trial, monitor: str):
        self.trial, self.monitor = trial, monitor
        self.pruned_at: int | None = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or self.monitor not in trainer.callback_metrics:
            return
        epoch = trainer.current_epoch
        self.trial.report(float(trainer.callback_metrics[self.monitor]), step=epoch)
        if self.trial.should_prune():
            self.pruned_at = epoch
            trainer.should_stop = True
