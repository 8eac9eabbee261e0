"""End to end: `kedro run --pipeline=spiking_coding --env test`, its outputs and MLflow run."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import run_area

AREA = "spiking_coding"
PLOTS = ("spike_trains", "accuracy", "training_curves")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert list(zip(results["dataset"], results["coding"])) == [
        ("mnist", "rate"), ("mnist", "latency"), ("fashion_mnist", "rate"), ("fashion_mnist", "latency")]
    assert results["test_acc"].between(0, 1).all()
    latency = results[results["coding"] == "latency"]["input_spikes_per_image"]
    assert (latency <= 784).all(), "latency coding: at most one spike per pixel"
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists()


def test_the_mlflow_run_has_metrics_and_plots(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["fashion_mnist_latency_test_acc"] <= 1.0
    assert "mnist/rate/val_acc" in run.data.metrics, "per-epoch metrics of each training"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
