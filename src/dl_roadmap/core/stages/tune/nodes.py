"""Nodes of the tune stage: search with Optuna, pick the best trial, retrain with it.

Parameters (under ``<area>.tune`` in the area's parameters file)::

    tune:
      study: {...}              # core/stages/tune/study.py: name, storage, n_trials, sampler, pruner...
      search_space: {...}       # core/stages/tune/search_space.py: dotted config path -> how to sample
      trial:
        train_limit: 10000      # trials train on the first N training items (null = all;
                                # datasets only: an objective task cuts its budget by overrides)
        overrides: {fit.max_epochs: 3}   # config changes for trials only (a cheaper budget)

Each trial trains on one device, through ``StageTask.train`` (``val_<metric>`` reported to
the pruner per epoch) or through the task's ``objective`` (which reports its own value per
epoch or iteration, see runs.py), and is a nested MLflow run of the pipeline's run. The
final model is trained with the best parameters and the area's own budget. A null
``study.storage`` is a SQLite file under ``<trainer.data_root>/07_model_output/<area>/tune``
and trial checkpoints go under ``<trainer.data_root>/06_models/checkpoints`` unless the
config's ``fit.checkpoint_dir`` says otherwise.
"""

from __future__ import annotations

import logging
import os
import socket
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.core.params import over_defaults, with_overrides
from dl_roadmap.core.stages.task import StageTask
from dl_roadmap.core.stages.tune.runs import limited_splits, run_final, run_trial
from dl_roadmap.core.stages.tune.search_space import check_search_space, suggest
from dl_roadmap.core.stages.tune.study import (
    FINISHED, build_pruner, build_sampler, open_storage, storage_url, study_config,
)
from dl_roadmap.core.tracking import metrics_for_mlflow, nested_run

logger = logging.getLogger(__name__)

TRIAL_DEFAULTS: dict[str, Any] = {"train_limit": None, "overrides": {}}



def optimize(
    task: StageTask,
    area: str,
    data: Any,
    config: dict[str, Any],
    trainer: dict[str, Any],
    study: dict[str, Any],
    search_space: dict[str, Any],
    trial: dict[str, Any] | None = None,
    base: Any = None,
) -> pd.DataFrame:
    """Run trials until the study holds ``study.n_trials`` finished ones.

    Several workers (other machines, other `kedro run`s) may run this node against one
    PostgreSQL study at the same time; each stops when the study reaches the target.

    Returns:
        Every trial of the study so far (Optuna's trials dataframe).
    """
    settings = study_config(study)
    space = check_search_space(search_space)
    trial_params = _trial_config(trial)
    for path in [*space, *trial_params["overrides"]]:
        with_overrides(config, {path: None})  # a path through a non-mapping fails here, naming it
    splits = limited_splits(task, data, trial_params["train_limit"])
    optuna_study = _open_study(area, settings, space, task.direction, trainer)
    # Trials run on one device each: parallelism comes from workers, not from DDP.
    trial_trainer = {**trainer, "devices": 1, "num_nodes": 1, "strategy": "auto"}
    checkpoints = Path(config.get("fit", {}).get("checkpoint_dir") or _data_root(trainer) / "06_models" / "checkpoints")
    checkpoints = checkpoints / f"{area}-{settings['name']}"

    def objective(optuna_trial: optuna.Trial) -> float:
        values = suggest(optuna_trial, space)
        trial_config = with_overrides(config, {**trial_params["overrides"], **values})
        # A retried trial continues the killed one's checkpoints (same parameters, same folder).
        retry_of = _retried_trial_number(optuna_study, optuna_trial.number)
        first_number = optuna_trial.number if retry_of is None else retry_of
        tags = {"optuna.study": settings["name"], "optuna.trial_number": str(optuna_trial.number)}
        with nested_run(f"trial-{optuna_trial.number}", tags=tags) as run:
            if run is not None:
                import mlflow

                mlflow.log_params({**values, "retry_of": "" if retry_of is None else retry_of})
            outcome = run_trial(task, optuna_trial, trial_config, data, splits, base, trial_trainer,
                                str(checkpoints / f"trial-{first_number}"))
            state = "PRUNED" if outcome.pruned_at is not None else "COMPLETE"
            # Which process ran it: useful when several machines share one study.
            optuna_trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
            optuna_trial.set_user_attr("resumed_from_checkpoint", outcome.resumed)
            if run is not None:
                import mlflow

                mlflow.set_tag("optuna.state", state)
        if state == "PRUNED":
            raise optuna.TrialPruned(f"pruned after step {outcome.pruned_at}")
        return outcome.value

    finished = _count(optuna_study, FINISHED)
    remaining = settings["n_trials"] - finished
    logger.info("Study %r: %d finished trial(s), target %d", settings["name"], finished, settings["n_trials"])
    if remaining > 0:
        optuna_study.optimize(
            objective,
            n_trials=remaining,
            timeout=settings["timeout"],
            callbacks=[optuna.study.MaxTrialsCallback(settings["n_trials"], states=FINISHED)],
            show_progress_bar=False,
        )
    return optuna_study.trials_dataframe()


def select_best(
    area: str, trials: pd.DataFrame, study: dict[str, Any], trainer: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The best finished trial: its number, value and parameters (dotted config paths).

    ``trials`` is only an input so that this runs after ``optimize``; the study itself
    is read from storage, so it sees the trials of every worker. ``trainer`` gives the
    data root of the default storage.
    """
    del trials
    optuna_study = load_study(area, study, trainer)
    complete = optuna_study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        raise RuntimeError(f"study {optuna_study.study_name!r} has no complete trial; see its failed/pruned trials")
    best = optuna_study.best_trial
    logger.info("Best trial %d: value %.4f with %s", best.number, best.value, best.params)
    return {"number": best.number, "value": float(best.value), "params": dict(best.params)}


def apply_best(config: dict[str, Any], best: dict[str, Any]) -> dict[str, Any]:
    """The area's config with the best trial's values in place."""
    return with_overrides(config, best["params"])


def retrain_best(
    task: StageTask, data: Any, best_config: dict[str, Any], trainer: dict[str, Any], base: Any = None
) -> tuple[nn.Module, pd.DataFrame, dict[str, dict[str, float]]]:
    """Train the final model with the best configuration on the full training split (an
    objective task: its objective once more, with the best config and the area's budget).

    Returns:
        The model, its per-epoch (per-step) history, and metrics: best validation and test
        value, or the objective's final value.
    """
    if task.objective is not None:
        model, history, metrics = run_final(task, best_config, data, base, trainer)
        logger.info("Retrained with the best parameters: %s", metrics)
        return model, history, metrics_for_mlflow(metrics)
    splits = task.splits(data)
    result = task.train(best_config, splits, base, trainer, name="tuned")
    test_value = task.evaluate(result.model, splits["test"], best_config)
    metrics = {f"tuned_val_{task.metric}": result.best_score, f"tuned_test_{task.metric}": test_value}
    logger.info("Retrained with the best parameters: %s", metrics)
    return result.model, result.history, metrics_for_mlflow(metrics)


def study_figures(
    area: str, trials: pd.DataFrame, study: dict[str, Any], trainer: dict[str, Any] | None = None
) -> tuple[Figure, Figure, Figure]:
    """Optuna's optimization history, parameter importances and slice plots."""
    from optuna.visualization import matplotlib as optuna_plots

    del trials
    optuna_study = load_study(area, study, trainer)
    figures = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", UserWarning)  # matplotlib's log-axis limit notices
        for draw in (optuna_plots.plot_optimization_history, optuna_plots.plot_param_importances, optuna_plots.plot_slice):
            try:
                axes = draw(optuna_study)
            except (ValueError, RuntimeError) as error:  # e.g. importances need two complete trials
                figures.append(_message_figure(f"{draw.__name__}: {error}"))
                continue
            panels = np.ravel(axes) if isinstance(axes, np.ndarray) else [axes]
            figure = panels[0].figure
            # One panel per parameter in the slice plot: give each room for its tick labels.
            figure.set_size_inches(max(6.4, 3.6 * len(panels) + 1.2), 4.8)
            figures.append(figure)
    return tuple(figures)


def study_metrics(trials: pd.DataFrame, best: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Counts of trials by state and the best trial's value, for MLflow."""
    counts = trials["state"].value_counts() if "state" in trials else pd.Series(dtype=int)
    metrics = {
        "best_trial_value": best["value"],
        "best_trial_number": best["number"],
        **{f"trials_{state.lower()}": int(counts.get(state, 0)) for state in ("COMPLETE", "PRUNED", "FAIL")},
    }
    return metrics_for_mlflow(metrics)


# --- helpers ------------------------------------------------------------------------------


def load_study(area: str, study: dict[str, Any], trainer: dict[str, Any] | None = None) -> optuna.Study:
    """The study named in the parameters, from its storage (it must exist)."""
    settings = study_config(study)
    storage = open_storage(storage_url(settings, default_dir(area, trainer)), settings)
    return optuna.load_study(study_name=settings["name"], storage=storage)


def _open_study(
    area: str, settings: dict[str, Any], space: dict[str, dict[str, Any]], direction: str, trainer: dict[str, Any]
) -> optuna.Study:
    url = storage_url(settings, default_dir(area, trainer))
    sampler = dict(settings["sampler"] or {})
    if not url.startswith("sqlite") and sampler.get("seed") is not None:
        # Workers sharing a server would all propose the same first parameters from one
        # seed; each mixes in its process id (a single SQLite worker stays reproducible).
        sampler["seed"] = int(sampler["seed"]) + os.getpid()
    return optuna.create_study(
        study_name=settings["name"],
        storage=open_storage(url, settings),
        sampler=build_sampler(sampler, space),
        pruner=build_pruner(settings["pruner"]),
        direction=direction,
        load_if_exists=True,
    )


def default_dir(area: str, trainer: dict[str, Any] | None = None) -> Path:
    """Where the study's SQLite file goes when ``study.storage`` is null:
    ``<trainer.data_root>/07_model_output/<area>/tune``, so each run environment (its own
    data root) keeps its own study and never resumes another's."""
    return _data_root(trainer) / "07_model_output" / area / "tune"


def _data_root(trainer: dict[str, Any] | None) -> Path:
    return Path(str((trainer or {}).get("data_root") or "data"))


def _trial_config(params: dict[str, Any] | None) -> dict[str, Any]:
    config = over_defaults(params, TRIAL_DEFAULTS, "trial")
    config["overrides"] = dict(config["overrides"] or {})
    return config


def _retried_trial_number(study: optuna.Study, number: int) -> int | None:
    """The number of the killed trial this one retries, or None for a fresh trial."""
    frozen = study.get_trials(deepcopy=False)[number]
    return optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(frozen)


def _count(study: optuna.Study, states: tuple) -> int:
    return len(study.get_trials(deepcopy=False, states=states))


def _message_figure(text: str) -> Figure:
    figure = Figure(figsize=(6, 2))
    figure.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    return figure
