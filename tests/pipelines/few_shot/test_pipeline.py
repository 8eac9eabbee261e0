"""End to end: `kedro run --pipeline=few_shot --env test`, its catalog outputs (under the
test environment's data root) and its MLflow run."""

from __future__ import annotations

import json

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "few_shot"
PLOTS = ("accuracy", "example_episode", "training", "one_shot_runs")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert set(zip(results["method"], results["way"], results["shot"])) == {
        (m, w, s) for m in ("protonet", "matching", "baseline") for w in (5, 20) for s in (1, 5)}
    assert results["accuracy"].between(0, 100).all() and (results["ci95"] >= 0).all()
    assert (results["episodes"] == 20).all(), "conf/test's episode count"
    assert results.set_index(["method", "way", "shot"]).loc[("protonet", 20, 1), "published"] == 96.0
    runs = pd.read_csv(reports / "one_shot_runs.csv").set_index("method")
    assert runs.loc["modified_hausdorff", "runs"] == 1 and 0 <= runs.loc["modified_hausdorff", "error_rate"] <= 100
    assert runs.loc["people", "published_error_rate"] == 4.5
    summary = json.loads((reports / "ingest_summary.json").read_text())
    assert summary["alphabets_dropped_from_test"] == [] and summary["train_classes"] == 4 * summary["train_characters"]
    assert not set(summary["train_alphabets"]) & set(summary["test_alphabets"]), "test alphabets unseen in training"
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["protonet_5way_1shot_acc"] <= 100.0
    assert "lake_modified_hausdorff_error" in run.data.metrics
    assert "few_shot/protonet/loss" in run.data.metrics, "per-iteration training metrics"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == ["few_shot_protonet"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 16), "images in, embeddings (conf/test: 16 channels) out"
