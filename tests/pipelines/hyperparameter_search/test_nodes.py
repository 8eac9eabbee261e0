"""Unit tests of hyperparameter_search's nodes, its scikit-learn wrapper and its plots."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.base import clone

from dl_roadmap.core.stages.tune.search_space import SearchSpaceError
from dl_roadmap.pipelines.hyperparameter_search import nodes, plots
from dl_roadmap.pipelines.hyperparameter_search.estimator import TorchMLPClassifier

SPACE = {
    "fit.optimizer.lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True, "grid": [1e-4, 1e-2]},
    "model.width": {"type": "int", "low": 16, "high": 64, "step": 16, "grid": [16, 64]},
    "model.dropout": {"type": "float", "low": 0.0, "high": 0.5},
}
CONFIG = {
    "model": {"activation": "relu", "depth": 1, "width": 16, "dropout": 0.0},
    "fit": {"max_epochs": 1, "batch_size": 64, "seed": 0, "optimizer": {"name": "AdamW", "lr": 1e-3}},
}
TRAINER = {"accelerator": "cpu", "progress_bar": False}


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """Blob digits: class k lights up row band k, plus noise; learnable in one epoch."""
    rng = np.random.default_rng(0)

    def make(n):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label + 4: 2 * label + 7, 4:24] = 255
        return images, labels.astype(np.int64)

    splits = {}
    for split, n in (("train", 256), ("val", 128), ("test", 128)):
        splits[f"{split}_images"], splits[f"{split}_labels"] = make(n)
    return splits


@pytest.fixture(autouse=True)
def checkpoints_in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # fit's default checkpoint folder is relative


# --- best so far, trials, comparison ------------------------------------------------------


def test_best_so_far_is_a_running_maximum_that_skips_missing_values():
    values = pd.Series([np.nan, 0.5, np.nan, 0.7, 0.6, 0.9])
    result = nodes.best_so_far(values)
    assert np.isnan(result.iloc[0]), "no best before the first value"
    assert result.iloc[1:].tolist() == [0.5, 0.5, 0.7, 0.7, 0.9]


def _optuna_like(numbers, values, states, lrs):
    return pd.DataFrame({"number": numbers, "value": values, "state": states, "params_fit.optimizer.lr": lrs,
                         "datetime_start": "x"})


def test_collect_trials_orders_numbers_and_ignores_unfinished_values():
    grid = _optuna_like([1, 0, 2], [0.8, 0.6, 0.7], ["COMPLETE"] * 3, [1e-2, 1e-3, 1e-1])
    tpe = _optuna_like([0, 1], [0.5, 0.9], ["COMPLETE", "PRUNED"], [3e-3, 4e-3])
    table = nodes.collect_trials(grid=grid, tpe=tpe)
    by = {s: t.reset_index(drop=True) for s, t in table.groupby("strategy")}
    assert by["grid"]["trial"].tolist() == [1, 2, 3]
    assert by["grid"]["fit.optimizer.lr"].tolist() == [1e-3, 1e-2, 1e-1]
    assert by["grid"]["best_so_far"].tolist() == [0.6, 0.8, 0.8]
    assert np.isnan(by["tpe"]["value"].iloc[1]), "a pruned trial's intermediate value is not a result"
    assert by["tpe"]["best_so_far"].tolist() == [0.5, 0.5]
    assert "datetime_start" not in table


def test_strategy_names_carry_sampler_and_seed():
    assert nodes.sampler_and_seed("tpe") == ("tpe", 0)
    assert nodes.sampler_and_seed("gp_seed2") == ("gp", 2)
    assert nodes.sampler_and_seed("sklearn_random") == ("sklearn_random", 0)


def test_seed_spread_summarizes_each_sampler_over_its_seeds():
    results = pd.DataFrame({
        "sampler": ["tpe", "tpe", "tpe", "grid"], "seed": [0, 1, 2, 0],
        "best_val_acc": [0.90, 0.92, 0.94, 0.91], "found_at_trial": [4, 8, 12, 3], "test_acc": [0.89, 0.91, 0.93, 0.95],
    })
    table = nodes.seed_spread(results).set_index("sampler")
    assert table.index.tolist() == ["grid", "tpe"], "best mean test accuracy first"
    assert table.loc["tpe", "seeds"] == 3 and table.loc["grid", "seeds"] == 1
    assert table.loc["tpe", "best_val_acc_mean"] == pytest.approx(0.92)
    assert table.loc["tpe", "best_val_acc_std"] == pytest.approx(0.02)
    assert (table.loc["tpe", "found_at_trial_min"], table.loc["tpe", "found_at_trial_max"]) == (4, 12)
    assert np.isnan(table.loc["grid", "test_acc_std"]), "no spread from one seed"


def test_repeats_join_the_trials_and_the_table_as_their_own_strategies():
    repeats = pd.concat([
        _optuna_like([0, 1], [0.7, 0.8], ["COMPLETE"] * 2, [1e-3, 1e-2]).assign(strategy="tpe_seed1"),
        _optuna_like([0, 1], [0.9, 0.6], ["COMPLETE"] * 2, [3e-3, 1e-1]).assign(strategy="tpe_seed2"),
    ])
    trials = nodes.collect_trials(repeats=repeats, tpe=_optuna_like([0], [0.5], ["COMPLETE"], [1e-4]))
    assert sorted(set(trials["strategy"])) == ["tpe", "tpe_seed1", "tpe_seed2"]
    assert set(trials["sampler"]) == {"tpe"} and sorted(set(trials["seed"])) == [0, 1, 2]
    best = {"tpe_seed1": {"number": 1, "value": 0.8, "params": {"fit.optimizer.lr": 1e-2}, "test_acc": 0.79},
            "tpe_seed2": {"number": 0, "value": 0.9, "params": {"fit.optimizer.lr": 3e-3}, "test_acc": 0.88}}
    table, _ = nodes.compare_strategies(
        trials, {"tpe": 0.5}, {"val_size": 100, "test_size": 100}, repeats=best,
        tpe={"number": 0, "value": 0.5, "params": {"fit.optimizer.lr": 1e-4}},
    )
    assert table.set_index("strategy")["test_acc"].to_dict() == {"tpe_seed2": 0.88, "tpe_seed1": 0.79, "tpe": 0.5}


def test_compare_strategies_table_and_metrics():
    trials = nodes.collect_trials(
        grid=_optuna_like([0, 1], [0.6, 0.8], ["COMPLETE"] * 2, [1e-3, 1e-2]),
        sklearn_random=_optuna_like([0, 1], [0.9, 0.7], ["COMPLETE"] * 2, [3e-3, 1e-1]),
    )
    best = {
        "grid": {"number": 1, "value": 0.8, "params": {"fit.optimizer.lr": 1e-2}},
        "sklearn_random": {"number": 0, "value": 0.9, "params": {"fit.optimizer.lr": 3e-3}},
    }
    table, metrics = nodes.compare_strategies(
        trials, {"grid": 0.75, "sklearn_random": 0.85}, {"val_size": 100, "test_size": 400}, **best
    )
    assert table["strategy"].tolist() == ["sklearn_random", "grid"], "best test accuracy first"
    row = table.set_index("strategy").loc["grid"]
    assert row["found_at_trial"] == 2 and row["trials"] == 2 and row["fit.optimizer.lr"] == 1e-2
    assert row["val_se"] == pytest.approx(math.sqrt(0.8 * 0.2 / 100))
    assert row["test_se"] == pytest.approx(math.sqrt(0.75 * 0.25 / 400))
    assert metrics["sklearn_random.test_acc"] == {"value": 0.85, "step": 0}
    assert metrics["grid.found_at_trial"]["value"] == 2
    with pytest.raises(KeyError, match="tpe"):
        nodes.compare_strategies(trials, {"grid": 0.75, "sklearn_random": 0.8, "tpe": 0.7},
                                 {"val_size": 100, "test_size": 400}, **best)


# --- the scikit-learn side -----------------------------------------------------------------


def test_search_space_translates_to_sklearn():
    grid = nodes.sklearn_grid({k: v for k, v in SPACE.items() if k != "model.dropout"})
    assert grid == {"lr": [1e-4, 1e-2], "width": [16, 64]}
    distributions = nodes.sklearn_distributions(SPACE)
    assert distributions["width"] == [16, 32, 48, 64], "uniform over the allowed integers, as Optuna"
    lrs = distributions["lr"].rvs(size=2000, random_state=0)
    assert lrs.min() >= 1e-4 and lrs.max() <= 1e-1
    assert abs(np.median(np.log10(lrs)) + 2.5) < 0.1, "log-uniform: the median is the geometric middle"
    dropouts = distributions["dropout"].rvs(size=2000, random_state=0)
    assert dropouts.min() >= 0.0 and dropouts.max() <= 0.5


def test_search_space_errors_name_the_key():
    with pytest.raises(ValueError, match="search_space.model.depth"):
        nodes.sklearn_grid({"model.depth": {"type": "int", "low": 1, "high": 3}})
    with pytest.raises(SearchSpaceError, match="search_space.model.dropout"):
        nodes.sklearn_grid({"model.dropout": {"type": "float", "low": 0.0, "high": 0.5}})


def test_random_search_settings_are_checked_by_key(digits):
    with pytest.raises(ValueError, match="n_iters"):
        nodes.sklearn_random_search(digits, CONFIG, SPACE, {"n_iters": 3}, TRAINER)


def test_estimator_is_a_sklearn_classifier_that_trains_the_objective(digits):
    X_train, y_train = nodes.flat_pixels(digits, "train")
    X_val, y_val = nodes.flat_pixels(digits, "val")
    estimator = TorchMLPClassifier(config=CONFIG, trainer=TRAINER, lr=np.float64(1e-2), width=np.int64(32))
    config = estimator.training_config()
    assert config["fit"]["optimizer"]["lr"] == 1e-2 and config["model"]["width"] == 32
    assert type(config["model"]["width"]) is int
    assert CONFIG["model"]["width"] == 16, "the shared config is not changed"
    assert clone(estimator).get_params()["width"] == 32
    estimator.fit(X_train, y_train, eval_set=(X_val, y_val))
    predicted = estimator.predict(X_val)
    assert predicted.shape == (len(y_val),) and set(predicted) <= set(range(10))
    # With eval_set the best validation epoch is kept: scikit-learn's score on that split is
    # the tune stage's trial value for the same configuration.
    assert estimator.score(X_val, y_val) == pytest.approx(estimator.best_val_score_, abs=1e-6)
    assert estimator.score(X_val, y_val) > 0.5, "the blob digits are learnt"


def test_grid_search_scores_each_point_once_on_validation(digits):
    space = {"fit.optimizer.lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True, "grid": [1e-3, 1e-1]}}
    trials, best, model = nodes.sklearn_grid_search(digits, CONFIG, space, TRAINER)
    assert trials["params_fit.optimizer.lr"].tolist() == [1e-3, 1e-1]
    assert (trials["state"] == "COMPLETE").all() and trials["value"].between(0, 1).all()
    assert best["value"] == trials["value"].max()
    assert best["params"] == {"fit.optimizer.lr": trials.loc[best["number"], "params_fit.optimizer.lr"]}
    accuracy = nodes.final_test_accuracies(digits, CONFIG, sklearn_grid=model)["sklearn_grid"]
    assert 0.0 <= accuracy <= 1.0


def test_repeat_searches_run_one_study_per_sampler_and_seed(digits):
    space = {"fit.optimizer.lr": SPACE["fit.optimizer.lr"]}
    settings = {"seeds": [3, 4], "n_trials": 2, "samplers": {"random": {"name": "random"}}}
    trials, best = nodes.repeat_searches(digits, CONFIG, space, settings, TRAINER)
    assert trials.groupby("strategy")["number"].apply(list).to_dict() == {"random_seed3": [0, 1], "random_seed4": [0, 1]}
    assert trials["params_fit.optimizer.lr"].nunique() == 4, "other seeds, other draws"
    for strategy, found in best.items():
        ran = trials[trials["strategy"] == strategy]
        assert found["value"] == ran["value"].max() and 0.0 <= found["test_acc"] <= 1.0
    with pytest.raises(ValueError, match="repeats.samplers.random.seed"):
        nodes.repeat_searches(digits, CONFIG, space, {**settings, "samplers": {"random": {"name": "random", "seed": 1}}}, TRAINER)
    with pytest.raises(ValueError, match="n_trial"):
        nodes.repeat_searches(digits, CONFIG, space, {"n_trial": 2}, TRAINER)


# --- plots ---------------------------------------------------------------------------------


def _trials_table():
    rng = np.random.default_rng(0)
    frames = {}
    for strategy in ("grid", "random", "tpe", "tpe_seed1", "tpe_seed2"):
        n = 6
        frames[strategy] = pd.DataFrame({
            "number": range(n), "value": rng.uniform(0.5, 0.9, n), "state": "COMPLETE",
            "params_fit.optimizer.lr": 10 ** rng.uniform(-4, -1, n),
            "params_model.width": rng.choice([16, 32, 48, 64], n),
            "params_model.dropout": rng.uniform(0, 0.5, n),
        })
    return nodes.collect_trials(**frames)


def test_best_so_far_figure_draws_one_curve_per_strategy():
    figure = plots.best_so_far_figure(_trials_table())
    assert isinstance(figure, Figure)
    best_axes = figure.axes[0]
    assert [line.get_label() for line in best_axes.get_lines()] == ["grid", "random", "tpe"]


def test_sampled_points_figure_has_a_panel_per_strategy_and_parameter():
    figure = plots.sampled_points_figure(_trials_table(), SPACE)
    panels = [ax for ax in figure.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 3 * 2, "3 strategies x (width, dropout) against the learning rate"
    assert panels[0].get_xscale() == "log"


def test_seed_spread_figure_draws_a_mean_per_sampler_and_each_seed():
    figure = plots.seed_spread_figure(_trials_table())
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert [label for label in labels if not label.startswith("_")] == [
        "grid (mean of 1 seed)", "random (mean of 1 seed)", "tpe (mean of 3 seeds)"]
    assert len(labels) == 3 + 3, "plus one thin line per tpe seed"
