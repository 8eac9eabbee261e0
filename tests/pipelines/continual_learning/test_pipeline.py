"""End to end: `kedro run --pipeline=continual_learning --env test`, its catalog outputs
(under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "continual_learning"
PLOTS = ("accuracy_matrices", "task1_accuracy", "results")
METHODS = {"naive", "ewc", "si", "lwf", "replay", "agem", "joint"}


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert set(zip(results["scenario"], results["method"])) == {
        (s, m) for s in ("task", "domain", "class") for m in METHODS}
    assert results["acc_mean"].between(0, 100).all() and (results["seeds"] == 1).all()
    assert results.set_index(["scenario", "method"]).loc[("class", "ewc"), "published_acc"] == 20.01
    cells = pd.read_csv(reports / "accuracy_matrices.csv")
    assert len(cells) == 3 * 7 * 3 * 2 and cells["acc"].between(0, 100).all(), "conf/test: two tasks of five digits"
    curves = pd.read_csv(reports / "task1_curves.csv")
    assert set(curves["task"]) == {1, 2}
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert (reports / "tune" / "trials.csv").is_file()
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["class_replay_acc"] <= 100.0
    assert "class/replay/seed0/task1_acc" in run.data.metrics, "per-iteration metrics of the core loop"
    assert "class/replay/seed0/avg_acc_seen" in run.data.metrics, "per-task evaluations"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.rand(4, 1, 28, 28)).shape == (4, 10), "images in, logits over the ten digits out"
