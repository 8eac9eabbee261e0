"""End to end: `kedro run --pipeline=spiking --env test`, its catalog outputs and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "spiking"
PLOTS = ("membrane", "training_curves", "energy")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    check = pd.read_csv(reports / "lif_check.csv").iloc[0]
    assert check["max_membrane_diff"] <= 1e-6 and check["max_spike_diff"] <= 1e-6
    assert check["ours_ms"] > 0 and check["snntorch_ms"] > 0
    results = pd.read_csv(reports / "results.csv")
    assert results["split"].tolist() == ["val", "test"] and results["acc"].between(0, 1).all()
    energy = pd.read_csv(reports / "energy.csv")
    assert energy["layer"].iloc[-1] == "total" and energy["ann_pj"].iloc[-1] > 0
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["test_acc"] <= 1.0
    assert run.data.metrics["lif_max_membrane_diff"] <= 1e-6
    assert "conv_snn/val_acc" in run.data.metrics, "per-epoch metrics of the training"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    images = torch.rand(3, 1, 28, 28)
    logits = model(images)
    assert logits.shape == (3, 10), "images (N, 1, 28, 28) in, class logits out"
    assert torch.equal(logits, model(images)), "predict is deterministic"
