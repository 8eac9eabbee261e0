"""End to end: `kedro run --pipeline=efficient_architectures_scaling --env test`, its catalog
outputs (under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "efficient_architectures_scaling"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert results["network"].tolist() == ["base", "compound", "depth only", "width only", "resolution only"]
    assert results["test_acc"].between(0, 1).all()
    plan = pd.read_csv(reports / "plan.csv")
    assert (plan["macs"] == results["macs"]).all(), "the trained networks are the planned ones"
    assert (reports / "accuracy_vs_macs.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["scaling.compound/test_acc"] <= 1.0
    assert "compound/val_acc" in run.data.metrics, "per-epoch metrics of the training"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    assert "plots/accuracy_vs_macs.png" in {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_compound"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10), "images in, class logits out"
