"""End to end: `kedro run --pipeline=spiking_conversion --env test`, its outputs and MLflow run."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import run_area

AREA = "spiking_conversion"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    curves = pd.read_csv(reports / "accuracy_vs_steps.csv")
    assert sorted(curves["steps"].unique()) == list(range(1, 11))  # conf/test: 10 steps
    results = pd.read_csv(reports / "results.csv")
    assert results["variant"].tolist() == ["unnormalised", "data_norm_max", "data_norm_p999_subtract"]
    assert results[["acc_T5", "acc_T10"]].stack().between(0, 1).all()
    assert (reports / "accuracy_vs_steps.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists()


def test_the_mlflow_run_has_metrics_and_the_plot(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["data_norm_max_acc_T10"] <= 1.0
    assert "ann/val_acc" in run.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    assert "plots/accuracy_vs_steps.png" in {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
