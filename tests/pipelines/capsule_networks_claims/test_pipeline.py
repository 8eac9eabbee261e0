"""End to end: `kedro run --pipeline=capsule_networks_claims --env test`, its catalog
outputs (under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "capsule_networks_claims"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert list(results["model"]) == ["capsnet_routing_1", "capsnet_routing_3", "cnn"]
    assert results[["clean_acc", "shifted_acc", "affine_acc"]].apply(lambda c: c.between(0, 1)).all().all()
    assert len(set(results["parameters"])) <= 2
    routing = pd.read_csv(reports / "routing.csv")
    assert list(routing["model"]) == ["capsnet_routing_1", "capsnet_routing_3"]
    for plot in ("accuracy", "training_curves"):
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    for name in ("capsnet_routing_1", "capsnet_routing_3", "cnn"):
        assert 0.0 <= run.data.metrics[f"{name}.affine_acc"] <= 1.0
    assert "capsnet_routing_3/val_acc" in run.data.metrics and "cnn/val_acc" in run.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/accuracy.png", "plots/training_curves.png"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_cnn"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10), "images in, class logits out"
