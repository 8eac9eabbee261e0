"""End to end: `kedro run --pipeline=architectures_recurrent --env test`, its catalog
outputs and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "architectures_recurrent"
PLOTS = ("race", "mnist1d", "mnist1d_curves", "pixel_rows_curves")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    mnist1d = pd.read_csv(reports / "mnist1d_results.csv")
    assert mnist1d["model"].tolist() == ["logistic", "cnn", "gru"]  # conf/test
    assert mnist1d["test_acc"].between(0, 1).all()
    assert mnist1d.set_index("model").loc["cnn", "paper_acc"] == 0.94
    rows = pd.read_csv(reports / "pixel_rows_results.csv")
    assert rows["cell"].tolist() == ["rnn", "gru"]
    race = pd.read_csv(reports / "race.csv")
    assert race["cell"].tolist() == ["rnn", "lstm", "gru"] and (race["ratio"] > 0).all()
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["mnist1d_cnn_test_acc"] <= 1.0
    assert run.data.metrics["race_lstm_ratio"] > 0
    assert "mnist1d/gru/val_acc" in run.data.metrics, "per-epoch metrics of the training"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.zeros(2, 28, 28)).shape == (2, 10), "28 rows of 28 pixels in, class logits out"
