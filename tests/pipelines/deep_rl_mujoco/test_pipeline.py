"""End to end: `kedro run --pipeline=deep_rl_mujoco --env test`, its catalog outputs and its
MLflow run, and the logged policy loaded back and played."""

from __future__ import annotations

import json

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "deep_rl_mujoco"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["env_steps"] == 2048 and summary["max_return"] == 1000
    history = pd.read_csv(reports / "history.csv")
    assert history["eval_return"].dropna().between(0, 1000).all()
    check = pd.read_csv(reports / "mlflow_check.csv")
    assert check["episodes"].iloc[0] == 2 and check["mean_return"].iloc[0] >= 1
    assert (reports / "learning_curve.png").stat().st_size > 0
    assert (reports / "inverted_pendulum.gif").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_policy(area_run) -> None:
    project, run = area_run
    assert run.data.metrics["best_eval_return"] >= 1
    assert "ppo_pendulum/eval_return" in run.data.metrics, "per-iteration metrics"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/learning_curve.png", "plots/inverted_pendulum.gif"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_policy"]
    actions = mlflow.pyfunc.load_model(models[0].model_uri).predict(np.zeros((3, 4), dtype=np.float32))
    assert actions.shape == (3, 1) and actions.dtype == np.float32 and (np.abs(actions) <= 3).all()
