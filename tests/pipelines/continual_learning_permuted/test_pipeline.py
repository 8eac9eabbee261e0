"""End to end: `kedro run --pipeline=continual_learning_permuted --env test`, its catalog
outputs (under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import json

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "continual_learning_permuted"
PLOTS = ("accuracy_matrices", "task1_accuracy", "results")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert len(results) == 3 * 7 and results["acc_mean"].between(0, 100).all()
    assert results.set_index(["scenario", "method"]).loc[("domain", "si"), "published_acc"] == 95.33
    cells = pd.read_csv(reports / "accuracy_matrices.csv")
    assert len(cells) == 3 * 7 * 3 * 2, "conf/test: two tasks"
    order = json.loads((reports / "permutations.json").read_text())["order"]
    assert len(order) == 2 and order[0] == list(range(784)) and sorted(order[1]) == list(range(784))
    assert order[1] != order[0]
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["domain_replay_acc"] <= 100.0
    assert "task/ewc/seed0/task1_acc" in run.data.metrics, "per-iteration metrics of the core loop"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.rand(4, 1, 28, 28)).shape == (4, 10), "images in, logits over the ten digits out"
