"""End to end: `kedro run --pipeline=self_supervised_ablations --env test`, its catalog
outputs (under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import run_area

AREA = "self_supervised_ablations"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_every_study_and_value_is_measured(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    runs = pd.read_csv(reports / "runs.csv", dtype={"value": str})
    assert list(zip(runs["study"], runs["value"])) == [
        ("batch_size", "16"), ("batch_size", "32"), ("temperature", "0.5"), ("projection_head", "0"), ("projection_head", "2")]
    assert runs[["probe_before_head", "probe_after_head", "knn_before_head"]].stack().between(0, 1).all()
    assert (runs["negatives"] == 2 * runs["batch_size"] - 2).all()
    no_head = runs[(runs["study"] == "projection_head") & (runs["value"] == "0")].iloc[0]
    assert no_head["probe_before_head"] == no_head["probe_after_head"], "without a head, h and g(h) are the same features"
    assert (reports / "ablations.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_the_probes_and_the_plot(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["temperature.0.5.probe_before_head"] <= 1.0
    assert "ablations/batch_size_16/train_loss" in run.data.metrics, "per-epoch metrics of the pretraining"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    assert "plots/ablations.png" in {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
