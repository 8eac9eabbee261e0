"""End to end: `kedro run --pipeline=deep_rl --env test`, its catalog outputs (under the
test environment's data root) and its MLflow run, and the logged policies loaded back with
mlflow.pyfunc and played in a plain Gymnasium loop."""

from __future__ import annotations

import gymnasium as gym
import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "deep_rl"
PLOTS = ("return_curves", "explain_steps")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    comparison = pd.read_csv(reports / "comparison.csv")
    assert set(zip(comparison["algorithm"], comparison["library"])) == {("dqn", "ours"), ("ppo", "ours"),
                                                                         ("ppo", "sb3")}  # conf/test: SB3 PPO only
    assert (comparison["seconds_per_10k_steps_mean"] > 0).all()
    curves = pd.read_csv(reports / "curves.csv")
    assert curves["eval_return"].between(0, 500).all()
    check = pd.read_csv(reports / "mlflow_check.csv")
    assert check["policy"].tolist() == ["dqn", "ppo"] and (check["episodes"] == 2).all()
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    for gif in ("dqn_cartpole", "ppo_cartpole"):
        assert (reports / f"{gif}.gif").stat().st_size > 0
    assert (reports / "tune" / "trials.csv").is_file()
    compress = pd.read_csv(reports / "compress" / "results.csv")
    assert compress["variant"].tolist() == ["fp32", "dynamic_int8"]
    assert compress["test_eval_return"].between(0, 500).all()
    assert (reports / "explain" / "faithfulness.csv").is_file()
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_both_policies(area_run) -> None:
    project, run = area_run
    assert run.data.metrics["dqn_ours_seconds_per_10k_steps"] > 0
    assert "dqn/eval_return" in run.data.metrics and "ppo/policy_loss" in run.data.metrics, "per-iteration metrics"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{p}.png" for p in PLOTS} | {"plots/dqn_cartpole.gif", "plots/ppo_cartpole.gif"} <= artifacts
    models = {m.name: m for m in logged_models(project, run)}
    assert {f"{AREA}_dqn_policy", f"{AREA}_ppo_policy"} <= set(models)
    for name in (f"{AREA}_dqn_policy", f"{AREA}_ppo_policy"):
        # The bar of a full run (README: mean >= 475 over 20 episodes) needs the full
        # budget; at test scale the loaded model must act in a plain Gymnasium loop.
        model = mlflow.pyfunc.load_model(models[name].model_uri)
        env, returns = gym.make("CartPole-v1"), []
        for episode in range(2):
            obs, _ = env.reset(seed=episode)
            total, done = 0.0, False
            while not done:
                action = model.predict(np.asarray(obs, dtype=np.float32)[None])
                assert action.dtype == np.int64 and action.shape == (1,)
                obs, reward, terminated, truncated, _ = env.step(int(action[0]))
                total, done = total + reward, terminated or truncated
            returns.append(total)
        assert 1 <= np.mean(returns) <= 500
