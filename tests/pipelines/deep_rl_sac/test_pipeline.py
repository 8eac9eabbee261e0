"""End to end: `kedro run --pipeline=deep_rl_sac --env test`, its catalog outputs (under the
test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image

from tests.conftest import logged_models, run_area

AREA = "deep_rl_sac"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert list(results["implementation"]) == ["ours", "sb3"]
    assert (results["seconds_per_1k_steps"] > 0).all() and (results["final_return_mean"] < 0).all()
    curves = pd.read_csv(reports / "ours_curves.csv")
    assert curves["env_steps"].tolist() == pd.read_csv(reports / "sb3_curves.csv")["env_steps"].tolist() == [150, 300]
    assert (reports / "curves.png").stat().st_size > 0
    assert Image.open(reports / "pendulum.gif").n_frames >= 2
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_policy(area_run) -> None:
    project, run = area_run
    assert "ours/seconds_per_1k_steps" in run.data.metrics and "sb3/final_return_mean" in run.data.metrics
    assert f"{AREA}/ours/seed0/eval_return" in run.data.metrics, "evaluations of the core loop"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/curves.png", "plots/pendulum.gif"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_policy"]
    policy = mlflow.pyfunc.load_model(models[0].model_uri)
    torque = np.asarray(policy.predict(np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 3.0]], dtype=np.float32)))
    assert torque.shape == (2, 1) and np.abs(torque).max() <= 2.0, "observations in, one torque per row out"
