"""End to end: `kedro run --pipeline=architectures --env test`, its catalog outputs (under
the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "architectures"
PLOTS = ("training_curves", "confusion_matrix", "first_layer_filters", "feature_maps", "receptive_fields")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert set(results["model"]) == {"lenet5", "modern_cnn"}
    scores = results[results["metric"] == "acc"]
    assert len(scores) == 4 and scores["value"].between(0, 1).all()
    fields = pd.read_csv(reports / "receptive_fields.csv")
    assert fields.loc[fields["model"] == "lenet5", "receptive_field"].tolist() == [5, 6, 14, 16, 32]
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert (reports / "tune" / "trials.csv").is_file()
    assert (reports / "compress" / "results.csv").is_file()
    assert (reports / "explain" / "faithfulness.csv").is_file()
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["modern_cnn_test_acc"] <= 1.0
    assert 0.0 <= run.data.metrics["lenet5_test_acc"] <= 1.0
    assert "lenet5/val_acc" in run.data.metrics, "per-epoch metrics of the training"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10), "images in, class logits out"
