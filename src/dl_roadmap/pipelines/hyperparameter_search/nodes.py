"""Nodes of hyperparameter_search: the scikit-learn reference searches, the repeated
searches with other sampler seeds, then the comparison of every strategy (best-so-far
curves, best configurations, test accuracy, spread over seeds).

Ingest is the image library's ``split_mnist``; the Optuna strategies are the shared tune
stage (pipeline.py). Every strategy's trials arrive here in Optuna's ``trials_dataframe``
format (``number``, ``value``, ``state``, ``params_<dotted path>``).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import optuna
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, PredefinedSplit, RandomizedSearchCV
from torch import nn

from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.params import with_overrides
from dl_roadmap.core.stages.tune.search_space import SearchSpaceError, check_search_space, grid_values, suggest
from dl_roadmap.core.stages.tune.study import build_sampler
from dl_roadmap.core.tracking import metrics_for_mlflow, nested_run
from dl_roadmap.image.tasks import MLP_TASK
from dl_roadmap.pipelines.hyperparameter_search.estimator import TorchMLPClassifier, estimator_name

logger = logging.getLogger(__name__)

RANDOM_SEARCH_DEFAULTS: dict[str, Any] = {"n_iter": 16, "seed": 0}
REPEAT_DEFAULTS: dict[str, Any] = {"seeds": [1, 2], "n_trials": 16, "samplers": {"random": {"name": "random"}}}


# --- the scikit-learn reference ------------------------------------------------------------


def sklearn_grid(search_space: dict[str, Any]) -> dict[str, list[Any]]:
    """The search space as ``GridSearchCV``'s ``param_grid`` (the tune stage's grid values)."""
    return {estimator_name(path): values for path, values in grid_values(check_search_space(search_space)).items()}


def sklearn_distributions(search_space: dict[str, Any]) -> dict[str, Any]:
    """The search space as ``RandomizedSearchCV``'s ``param_distributions``, drawing what
    Optuna's RandomSampler draws: log-uniform or uniform floats, uniform over the allowed
    integers, categorical choices; a float with ``step`` draws from its steps."""
    distributions = {}
    for path, spec in check_search_space(search_space).items():
        name = estimator_name(path)
        if spec["type"] == "categorical":
            distributions[name] = list(spec["choices"])
        elif spec["type"] == "int":
            if spec.get("log"):
                raise SearchSpaceError(f"search_space.{path}: a log-scale int has no scipy distribution here; "
                                       "use a step or categorical choices")
            distributions[name] = list(range(spec["low"], spec["high"] + 1, int(spec.get("step") or 1)))
        elif spec.get("step"):
            distributions[name] = grid_values({path: {k: v for k, v in spec.items() if k != "grid"}})[path]
        elif spec.get("log"):
            distributions[name] = stats.loguniform(spec["low"], spec["high"])
        else:
            distributions[name] = stats.uniform(spec["low"], spec["high"] - spec["low"])
    return distributions


def sklearn_grid_search(
    splits: dict[str, np.ndarray], config: dict[str, Any], search_space: dict[str, Any], trainer: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any], nn.Module]:
    """``GridSearchCV`` over the search space's grid, scored on the validation split.

    Returns:
        Its trials (Optuna's format), the best one (``number``, ``value``, ``params``) and
        the model retrained with the best parameters.
    """
    estimator = TorchMLPClassifier(config=config, trainer=trainer, run_name="sklearn_grid")
    search = GridSearchCV(estimator, sklearn_grid(search_space), **_validation_split(splits))
    return _run_search(search, splits, search_space)


def sklearn_random_search(
    splits: dict[str, np.ndarray],
    config: dict[str, Any],
    search_space: dict[str, Any],
    settings: dict[str, Any],
    trainer: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any], nn.Module]:
    """``RandomizedSearchCV`` over the search space's distributions (``settings``: ``n_iter``
    candidates, ``seed``), scored on the validation split; returns as ``sklearn_grid_search``."""
    settings = over_defaults(settings, RANDOM_SEARCH_DEFAULTS, "hyperparameter_search.sklearn_random")
    if not isinstance(settings["n_iter"], int) or settings["n_iter"] < 1:
        raise ValueError(f"hyperparameter_search.sklearn_random.n_iter: a positive integer, got {settings['n_iter']!r}")
    estimator = TorchMLPClassifier(config=config, trainer=trainer, run_name="sklearn_random")
    search = RandomizedSearchCV(
        estimator, sklearn_distributions(search_space), n_iter=settings["n_iter"],
        random_state=settings["seed"], **_validation_split(splits),
    )
    return _run_search(search, splits, search_space)


def _validation_split(splits: dict[str, np.ndarray]) -> dict[str, Any]:
    """Search arguments that score every candidate once on the validation split (what the
    tune stage does), instead of cross-validating: fold -1 = always train, 0 = validation."""
    folds = np.r_[np.full(len(splits["train_labels"]), -1), np.zeros(len(splits["val_labels"]), dtype=int)]
    # refit=False: the best parameters are retrained on the training split alone below,
    # as the tune stage retrains its best trial.
    return {"cv": PredefinedSplit(folds), "refit": False, "error_score": "raise", "n_jobs": None}


def _run_search(
    search: Any, splits: dict[str, np.ndarray], search_space: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any], nn.Module]:
    X_train, y_train = flat_pixels(splits, "train")
    X_val, y_val = flat_pixels(splits, "val")
    eval_set = (X_val, y_val)
    search.fit(np.concatenate([X_train, X_val]), np.concatenate([y_train, y_val]), eval_set=eval_set)
    paths = {estimator_name(path): path for path in search_space}
    results = search.cv_results_
    trials = pd.DataFrame({
        "number": np.arange(len(results["params"])),
        "value": results["mean_test_score"],
        "state": "COMPLETE",
        **{f"params_{paths[name]}": [p[name] for p in results["params"]] for name in paths},
    })
    best_number = int(np.argmax(results["mean_test_score"]))  # the first of equal scores, as Optuna
    best_params = {paths[name]: _plain(value) for name, value in results["params"][best_number].items()}
    best = {"number": best_number, "value": float(results["mean_test_score"][best_number]), "params": best_params}
    logger.info("%s best candidate %d: %.4f with %s", type(search).__name__, best_number, best["value"], best_params)
    final = clone(search.estimator).set_params(**results["params"][best_number], run_name=f"{search.estimator.run_name}-best")
    final.fit(X_train, y_train, eval_set=eval_set)
    return trials, best, final.model_


def flat_pixels(splits: dict[str, np.ndarray], split: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, 784) float32 pixels in [0, 1] and int64 labels of one split, scikit-learn's shapes."""
    images = splits[f"{split}_images"]
    return images.reshape(len(images), -1).astype(np.float32) / 255.0, splits[f"{split}_labels"].astype(np.int64)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# --- the spread over sampler seeds ---------------------------------------------------------


def repeat_searches(
    splits: dict[str, np.ndarray],
    config: dict[str, Any],
    search_space: dict[str, Any],
    settings: dict[str, Any],
    trainer: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Each sampler of ``settings.samplers`` again with each seed of ``settings.seeds``:
    an in-memory Optuna study of ``n_trials`` trials of the same objective and space, its
    best trial's model scored on the test split. Each study is one nested MLflow run
    (``<sampler>_seed<k>``) holding its trials' per-epoch curves (``trial-<n>/...``).

    Returns:
        Every study's trials (Optuna's format plus ``strategy``) and, per strategy, its
        best trial (``number``, ``value``, ``params``) with ``test_acc``.
    """
    settings = over_defaults(settings, REPEAT_DEFAULTS, "hyperparameter_search.repeats")
    if not isinstance(settings["n_trials"], int) or settings["n_trials"] < 1:
        raise ValueError(f"hyperparameter_search.repeats.n_trials: a positive integer, got {settings['n_trials']!r}")
    if not isinstance(settings["seeds"], list) or not all(isinstance(seed, int) for seed in settings["seeds"]):
        raise ValueError(f"hyperparameter_search.repeats.seeds: a list of integers, got {settings['seeds']!r}")
    space = check_search_space(search_space)
    data = MLP_TASK.splits(splits)
    runs = [(name, dict(options or {}), seed) for name, options in settings["samplers"].items() for seed in settings["seeds"]]
    frames, best = [], {}
    for name, options, seed in tqdm(runs, desc="repeated searches", unit="study"):
        if "seed" in options:
            raise ValueError(f"hyperparameter_search.repeats.samplers.{name}.seed: set the seeds in repeats.seeds")
        strategy = f"{name}_seed{seed}"
        study = optuna.create_study(direction=MLP_TASK.direction, sampler=build_sampler({**options, "seed": seed}, space))
        kept: dict[str, Any] = {}

        def objective(trial: optuna.Trial) -> float:
            trial_config = with_overrides(config, suggest(trial, space))
            result = MLP_TASK.train(trial_config, data, None, trainer, name=f"trial-{trial.number}")
            if "value" not in kept or result.best_score > kept["value"]:  # first of equal values, as Optuna
                kept.update(value=result.best_score, model=result.model, config=trial_config)
            return float(result.best_score)

        with nested_run(strategy, tags={"search": strategy}):
            study.optimize(objective, n_trials=settings["n_trials"])
        frames.append(study.trials_dataframe().assign(strategy=strategy))
        found = study.best_trial
        best[strategy] = {"number": found.number, "value": float(found.value), "params": dict(found.params),
                          "test_acc": float(MLP_TASK.evaluate(kept["model"], data["test"], kept["config"]))}
        logger.info("%s: best %.4f at trial %d, test %.4f", strategy, found.value, found.number, best[strategy]["test_acc"])
    return pd.concat(frames, ignore_index=True), best


# --- compare -------------------------------------------------------------------------------


def final_test_accuracies(splits: dict[str, np.ndarray], config: dict[str, Any], **models: nn.Module) -> dict[str, float]:
    """Test accuracy of each strategy's final model (its best configuration, retrained)."""
    test = MLP_TASK.splits(splits)["test"]
    return {strategy: float(MLP_TASK.evaluate(model, test, config)) for strategy, model in models.items()}


def best_so_far(values: pd.Series) -> pd.Series:
    """Running maximum over trials in order; a trial without a value (failed, pruned)
    keeps the previous best, and the curve is NaN until the first value."""
    # cummax leaves a NaN where the value is missing: carry the previous best over it.
    return pd.Series(values, dtype=float).cummax().ffill()


def sampler_and_seed(strategy: str) -> tuple[str, int]:
    """``"tpe_seed2"`` -> ``("tpe", 2)``; a strategy without the suffix ran with seed 0."""
    sampler, _, seed = strategy.partition("_seed")
    return sampler, int(seed) if seed else 0


def collect_trials(repeats: pd.DataFrame | None = None, **trials_by_strategy: pd.DataFrame) -> pd.DataFrame:
    """One long table of every strategy's trials: ``strategy``, ``sampler``, ``seed``,
    ``trial`` (1-based, in the order they ran), ``value``, ``best_so_far``, ``state`` and
    one column per searched parameter (its dotted path). ``repeats`` holds several
    strategies' trials, told apart by its ``strategy`` column."""
    if repeats is not None:
        trials_by_strategy.update({strategy: group for strategy, group in repeats.groupby("strategy", sort=False)})
    frames = []
    for strategy, trials in trials_by_strategy.items():
        trials = trials.sort_values("number")
        complete = trials["state"].eq("COMPLETE")
        params = {column.removeprefix("params_"): trials[column].to_numpy()
                  for column in trials.columns if column.startswith("params_")}
        sampler, seed = sampler_and_seed(strategy)
        frame = pd.DataFrame({
            "strategy": strategy,
            "sampler": sampler,
            "seed": seed,
            "trial": trials["number"].to_numpy() + 1,
            "value": trials["value"].where(complete).to_numpy(),
            "state": trials["state"].to_numpy(),
            **params,
        })
        frame["best_so_far"] = best_so_far(frame["value"]).to_numpy()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def compare_strategies(
    trials: pd.DataFrame,
    test_accuracy: dict[str, float],
    ingest_summary: dict[str, Any],
    repeats: dict[str, dict[str, Any]] | None = None,
    **best: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """The results table, one row per strategy, best test accuracy first, and its metrics.

    Args:
        trials: ``collect_trials``'s table.
        test_accuracy: strategy -> test accuracy of its retrained best configuration.
        ingest_summary: ``split_mnist``'s summary (validation and test sizes).
        repeats: ``repeat_searches``'s best trials, each with its ``test_acc``.
        best: strategy -> its best trial (``number``, ``value``, ``params``).
    Returns:
        Columns: ``strategy`` (``sampler`` and ``seed``), ``trials``, ``best_val_acc``, ``found_at_trial`` (1-based),
        the best parameters, ``test_acc``, and ``val_se``/``test_se``: the binomial standard
        error sqrt(p(1-p)/n) of each accuracy, the noise two strategies' scores must exceed
        to differ for real. Metrics ``<strategy>.<column>`` for MLflow.
    """
    test_accuracy = {**test_accuracy, **{s: found["test_acc"] for s, found in (repeats or {}).items()}}
    best = {**best, **(repeats or {})}
    missing = sorted(set(best) ^ set(test_accuracy))
    if missing:
        raise KeyError(f"compare_strategies: strategies without both a best trial and a test accuracy: {missing}")
    rows = []
    for strategy, found in best.items():
        ran = trials[trials["strategy"] == strategy]
        val, test = float(found["value"]), float(test_accuracy[strategy])
        rows.append({
            "strategy": strategy,
            "sampler": sampler_and_seed(strategy)[0],
            "seed": sampler_and_seed(strategy)[1],
            "trials": int(ran["value"].notna().sum()),
            "best_val_acc": val,
            "found_at_trial": int(found["number"]) + 1,
            **found["params"],
            "test_acc": test,
            "val_se": _standard_error(val, ingest_summary["val_size"]),
            "test_se": _standard_error(test, ingest_summary["test_size"]),
        })
    table = pd.DataFrame(rows).sort_values("test_acc", ascending=False, ignore_index=True)
    metrics = metrics_for_mlflow({
        f"{row['strategy']}.{column}": row[column] for row in rows for column in ("best_val_acc", "found_at_trial", "test_acc")
    })
    return table, metrics


def _standard_error(accuracy: float, n: int) -> float:
    return math.sqrt(max(accuracy * (1 - accuracy), 0.0) / max(int(n), 1))


def seed_spread(results: pd.DataFrame) -> pd.DataFrame:
    """Per sampler, the spread over its seeds of the best validation accuracy, the trial it
    was found at and the test accuracy: ``seeds``, ``<column>_mean``, ``_std``, ``_min``,
    ``_max`` (std is NaN for a sampler run with one seed). Best mean test accuracy first."""
    columns = ["best_val_acc", "found_at_trial", "test_acc"]
    grouped = results.groupby("sampler")[columns]
    table = grouped.agg(["mean", "std", "min", "max"])
    table.columns = [f"{column}_{stat}" for column, stat in table.columns]
    table.insert(0, "seeds", grouped.size())
    return table.reset_index().sort_values("test_acc_mean", ascending=False, ignore_index=True)
