"""End to end: `kedro run --pipeline=hyperparameter_search --env test`, its catalog outputs
and its MLflow run; and the pipeline's shape."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from dl_roadmap.pipelines.hyperparameter_search import create_pipeline

REPORTS = "data/test/08_reporting/hyperparameter_search"
OPTUNA = ["grid", "random", "tpe", "gp"]
REPEATS = ["random_seed1", "tpe_seed1", "gp_seed1"]  # conf/test: one more seed, two trials each
SKLEARN = ["sklearn_grid", "sklearn_random"]
PARAMS = ["fit.optimizer.lr", "model.width", "model.dropout"]
PNG = b"\x89PNG\r\n\x1a\n"
TRIALS = 4  # conf/test: four trials per strategy, a 2 x 2 x 1 grid


def test_pipeline_runs_the_tune_stage_once_per_sampler_and_no_compress_or_explain():
    pipeline = create_pipeline()
    names = {node.name for node in pipeline.nodes}
    assert {f"hyperparameter_search.{s}.tune.optimize" for s in OPTUNA} <= names
    assert "repeat_searches" in names
    assert {"sklearn_grid_search", "sklearn_random_search", "compare_strategies"} <= names
    assert not any(".compress." in name or ".explain." in name for name in names), "see the README"
    inputs = pipeline.inputs()
    # One search space and one trial budget for all: the stages read the shared blocks.
    assert {"params:hyperparameter_search.search_space", "params:hyperparameter_search.trial"} <= inputs
    assert not any(name.endswith(".tune.search_space") for name in inputs)
    assert {f"params:hyperparameter_search.{s}.tune.study" for s in OPTUNA} <= inputs


def test_catalog_outputs_are_written(hyperparameter_search_run):
    project, _ = hyperparameter_search_run
    summary = json.loads((project / REPORTS / "ingest_summary.json").read_text())
    assert (summary["train_size"], summary["val_size"], summary["test_size"]) == (500, 100, 1000)

    results = pd.read_csv(project / REPORTS / "results.csv")
    assert sorted(results["strategy"]) == sorted(OPTUNA + REPEATS + SKLEARN)
    assert results["test_acc"].is_monotonic_decreasing, "best first"
    trials_run = results.set_index("strategy")["trials"]
    assert (trials_run[OPTUNA + SKLEARN] == TRIALS).all(), "the same budget for every strategy"
    assert (trials_run[REPEATS] == 2).all()
    assert results["best_val_acc"].between(0, 1).all() and results["best_val_acc"].max() > 0.3, "beats chance (10%)"
    assert results["test_acc"].between(0, 1).all()
    assert results["found_at_trial"].between(1, TRIALS).all()
    assert (results["val_se"] > 0).all() and (results["test_se"] < results["val_se"]).all(), "10x more test images"

    spread = pd.read_csv(project / REPORTS / "seed_spread.csv").set_index("sampler")
    assert spread["seeds"].to_dict() == {"random": 2, "tpe": 2, "gp": 2, "grid": 1, "sklearn_grid": 1, "sklearn_random": 1}
    assert (spread["best_val_acc_min"] <= spread["best_val_acc_max"]).all()

    trials = pd.read_csv(project / REPORTS / "trials.csv")
    by_strategy = trials.groupby("strategy")["trial"].apply(list).to_dict()
    assert by_strategy == {**{s: [1, 2, 3, 4] for s in OPTUNA + SKLEARN}, **{s: [1, 2] for s in REPEATS}}
    for strategy, ran in trials.groupby("strategy"):
        assert ran["best_so_far"].is_monotonic_increasing, strategy
        best = results.set_index("strategy").loc[strategy, "best_val_acc"]
        assert ran["best_so_far"].iloc[-1] == pytest.approx(best), strategy

    # Both grid searches evaluate the same 4 points and, training alike, score them alike.
    grids = {s: trials[trials["strategy"] == s].set_index(PARAMS)["value"].sort_index() for s in ("grid", "sklearn_grid")}
    assert len(grids["grid"]) == TRIALS
    assert grids["grid"].index.equals(grids["sklearn_grid"].index)
    assert grids["grid"].to_numpy() == pytest.approx(grids["sklearn_grid"].to_numpy(), abs=1e-6)
    random_lrs = trials.loc[trials["strategy"] == "random", "fit.optimizer.lr"]
    assert random_lrs.between(1e-4, 1e-1).all() and not random_lrs.isin([1e-3, 1e-2]).all()

    for plot in ("best_so_far", "sampled_points", "seed_spread"):
        assert (project / REPORTS / f"{plot}.png").read_bytes()[:8] == PNG
    for strategy in OPTUNA:  # each tune stage in its own folder, not the stage's shared one
        assert len(pd.read_csv(project / REPORTS / strategy / "trials.csv")) == TRIALS
        assert (project / REPORTS / strategy / "slice.png").read_bytes()[:8] == PNG
        assert list((project / f"data/test/06_models/hyperparameter_search/{strategy}").glob("tuned_model.pt/*/tuned_model.pt"))
    for strategy in SKLEARN:
        assert len(pd.read_csv(project / REPORTS / strategy / "trials.csv")) == TRIALS


def test_one_mlflow_run_holds_every_strategy(hyperparameter_search_run):
    project, run = hyperparameter_search_run
    assert run.info.status == "FINISHED"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    for strategy in OPTUNA + REPEATS + SKLEARN:
        assert 0.0 <= run.data.metrics[f"{strategy}.test_acc"] <= 1.0
        assert 0.0 <= run.data.metrics[f"{strategy}.best_val_acc"] <= 1.0
    for strategy in OPTUNA:  # the stage's own metrics, one prefix per strategy
        assert 0.0 <= run.data.metrics[f"tune.{strategy}.tuned_test_acc"] <= 1.0
        assert run.data.metrics[f"tune.{strategy}.trials_complete"] == TRIALS

    children = client.search_runs([run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'")
    studies = pd.Series([c.data.tags.get("optuna.study") for c in children]).value_counts().to_dict()
    assert {f"{s}-test": TRIALS for s in OPTUNA}.items() <= studies.items(), "each trial a nested run"
    searches = pd.Series([c.data.tags.get("search") for c in children]).value_counts().to_dict()
    for strategy in SKLEARN:  # every candidate, then the best one retrained
        assert searches[strategy] == TRIALS and searches[f"{strategy}-best"] == 1
    for strategy in REPEATS:  # one nested run per repeated study, its trials' curves inside
        assert searches[strategy] == 1
        repeat = next(c for c in children if c.data.tags.get("search") == strategy)
        assert {"trial-0/val_acc", "trial-1/val_acc"} <= set(repeat.data.metrics)
    trial = next(c for c in children if c.data.tags.get("optuna.study") == "tpe-test")
    assert {"fit.optimizer.lr", "model.width", "model.dropout"} <= set(trial.data.params)
    assert "trial/val_acc" in trial.data.metrics, "the trial's per-epoch curve"

    artifacts = {a.path for folder in ("plots", "tables", *(f"tune/{s}" for s in OPTUNA + SKLEARN + ["repeats"]))
                 for a in client.list_artifacts(run.info.run_id, folder)}
    assert {"plots/best_so_far.png", "plots/sampled_points.png", "plots/seed_spread.png"} <= artifacts
    assert {"tables/results.csv", "tables/trials.csv", "tables/seed_spread.csv"} <= artifacts
    assert {f"tune/{s}/trials.csv" for s in OPTUNA + SKLEARN + ["repeats"]} <= artifacts
    assert {f"tune/{s}/optimization_history.png" for s in OPTUNA} <= artifacts
