"""End to end: `kedro run --pipeline={{ cookiecutter.pipeline_name }} --env test`, its catalog outputs
(under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "{{ cookiecutter.pipeline_name }}"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert set(results["metric"]) == {"acc", "loss"}
    assert results["value"].between(0, 10).all()
    for plot in ("training_curves", "confusion_matrix"):
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert (reports / "tune" / "trials.csv").is_file()
    assert (reports / "compress" / "results.csv").is_file()
    assert (reports / "explain" / "faithfulness.csv").is_file()
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["test_acc"] <= 1.0
    assert f"{AREA}/val_acc" in run.data.metrics, "per-epoch metrics of the training"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/training_curves.png", "plots/confusion_matrix.png"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10), "images in, class logits out"
