"""End to end: `kedro run --pipeline=neural_odes_latent --env test`, its catalog outputs and
its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "neural_odes_latent"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv").set_index("model")
    assert list(results.index) == ["latent_ode", "rnn"]
    assert (results["extrapolation_rmse"] > 0).all()
    assert results["interpolation_rmse"].isna().tolist() == [False, True], "the RNN does not interpolate"
    for name in ("spirals", "training"):
        assert (reports / f"{name}.png").stat().st_size > 0
    assert (reports / "latent_ode_history.csv").is_file() and (reports / "rnn_history.csv").is_file()
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert "latent_ode.extrapolation_rmse" in run.data.metrics and "rnn.extrapolation_rmse" in run.data.metrics
    assert f"{AREA}_latent_ode/loss" in run.data.metrics, "per-iteration training metrics"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/spirals.png", "plots/training.png"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    obs, obs_times = torch.zeros(2, 5, 2), torch.linspace(0, 1, 5).repeat(2, 1)
    assert model(obs, obs_times, torch.linspace(0, 2, 7)).shape == (2, 7, 2)
