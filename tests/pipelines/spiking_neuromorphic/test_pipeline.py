"""End to end: `kedro run --pipeline=spiking_neuromorphic --env test`, its outputs and MLflow run."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image

from tests.conftest import run_area

AREA = "spiking_neuromorphic"
PLOTS = ("events", "training_curves", "energy")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv").iloc[0]
    assert results["clips"] == 60 and results["steps"] == 4  # conf/test: 5 frames give 4 event frames
    assert 0 < results["input_event_rate"] < 0.5
    energy = pd.read_csv(reports / "energy.csv")
    assert energy["layer"].iloc[-1] == "total" and (energy["snn_macs"] == 0).all(), "events: accumulates only"
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert Image.open(reports / "events.gif").n_frames == 4
    assert not (project / "data" / "08_reporting" / AREA).exists()


def test_the_mlflow_run_has_metrics_and_plots(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["test_acc"] <= 1.0 and run.data.metrics["ann_over_snn"] > 0
    assert "event_snn/val_acc" in run.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{p}.png" for p in PLOTS} | {"plots/events.gif"} <= artifacts
