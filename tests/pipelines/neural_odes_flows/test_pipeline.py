"""End to end: `kedro run --pipeline=neural_odes_flows --env test`, its catalog outputs and
its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "neural_odes_flows"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert list(results["density"]) == ["two_moons", "rings"]
    assert results["grid_mass"].between(0.9, 1.01).all(), "a density integrates to about 1 on the grid"
    for plot in ("densities", "training"):
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert "two_moons.test_nll_exact" in run.data.metrics
    assert f"{AREA}_two_moons/nll" in run.data.metrics, "per-iteration training metrics"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/densities.png", "plots/training.png"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.zeros(3, 2)).shape == (3,), "points in, log-densities out"
