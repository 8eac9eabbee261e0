"""End to end: `kedro run --pipeline=reinforcement_learning --env test`, its catalog outputs
(under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image

from tests.conftest import logged_models, run_area

AREA = "reinforcement_learning"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    dp = pd.read_csv(reports / "dp.csv")
    assert set(dp["env"]) == {"frozenlake_4x4", "frozenlake_8x8", "cliffwalking", "taxi"}
    assert dp["pi_actions_optimal"].all() and (dp["max_value_gap"] < 1e-6).all()
    assert set(pd.read_csv(reports / "frozenlake.csv")["method"]) == {"q_learning", "sarsa", "expected_sarsa"}
    cliff = pd.read_csv(reports / "cliff_rewards.csv")
    assert cliff.groupby("method")["seed"].nunique().eq(2).all()
    pg = pd.read_csv(reports / "pg.csv")
    assert set(pg["method"]) == {"reinforce", "reward_to_go", "baseline", "a2c"} and len(pg) == 8
    variance = pd.read_csv(reports / "gradient_variance.csv")
    assert list(variance["estimator"]) == ["reinforce", "reward_to_go", "baseline"]
    for plot in ("dp_values", "frozenlake", "cliff", "policy_gradients", "gradient_variance"):
        assert (reports / f"{plot}.png").stat().st_size > 0
    for gif in ("cartpole", "frozenlake", "cliff_sarsa", "cliff_q_learning"):
        assert Image.open(reports / f"{gif}.gif").n_frames >= 2
    assert (reports / "explain" / "faithfulness.csv").is_file()
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_policies(area_run) -> None:
    project, run = area_run
    assert run.data.metrics["dp/frozenlake_4x4/optimal_return"] == pytest.approx(0.7402, abs=1e-4)
    assert any(key.startswith(f"{AREA}/a2c/seed0/") for key in run.data.metrics), "per-update metrics of the loop"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/cliff.png", "plots/cartpole.gif", "plots/policy_gradients.png"} <= artifacts
    models = {m.name: m for m in logged_models(project, run)}
    assert {f"{AREA}_cartpole_a2c", f"{AREA}_frozenlake_4x4_q_learning", f"{AREA}_cliffwalking_sarsa"} <= set(models)
    cartpole = mlflow.pyfunc.load_model(models[f"{AREA}_cartpole_a2c"].model_uri)
    actions = np.asarray(cartpole.predict(np.zeros((3, 4), dtype=np.float32)))
    assert actions.shape == (3,) and set(actions.tolist()) <= {0, 1}, "observations in, one action per row out"
    lake = mlflow.pyfunc.load_model(models[f"{AREA}_frozenlake_4x4_q_learning"].model_uri)
    assert np.asarray(lake.predict(np.arange(16, dtype=np.float32)[:, None])).shape == (16,)
