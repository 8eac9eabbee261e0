"""End to end: `kedro run --pipeline=architectures_memory --env test`, its catalog outputs
and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "architectures_memory"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert sorted(zip(results["cell"], results["length"])) == [("gru", 5), ("gru", 10), ("rnn", 5), ("rnn", 10)]
    assert (results["test_mse"] >= 0).all()
    assert (reports / "mse_by_length.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert run.data.metrics["gru_T10_test_mse"] >= 0
    assert "adding/gru_T10/val_loss" in run.data.metrics, "per-epoch metrics of the training"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    assert "plots/mse_by_length.png" in {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.rand(2, 10, 2)).shape == (2,), "(value, mark) sequences in, predicted sums out"
