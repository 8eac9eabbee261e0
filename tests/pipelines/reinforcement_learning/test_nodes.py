"""reinforcement_learning nodes on tiny settings: DP, TD, policy gradients, the models."""

from __future__ import annotations

import pandas as pd
import pytest

from dl_roadmap.pipelines.reinforcement_learning import figures, nodes
from tests.parameters import assert_named_before_the_run, parameters

TRAINER = {"accelerator": "cpu", "progress_bar": False}


@pytest.fixture(scope="module")
def params():
    return parameters("test")["reinforcement_learning"]


@pytest.fixture(scope="module")
def dp(params):
    return nodes.solve_dp(params["dp"])


def test_dp_table_and_figure(dp):
    table, solutions = dp
    assert table.set_index("env").loc["cliffwalking", "optimal_return_exact"] == -13.0
    assert table["pi_actions_optimal"].all()
    assert figures.dp_figure(solutions).axes


def test_td_nodes(params, dp):
    _, solutions = dp
    curves, results, tables = nodes.td_frozenlake(params["frozenlake"], solutions)
    assert len(results) == 3 and results["dp_optimum"].iloc[0] == pytest.approx(0.7402, abs=1e-4)
    assert set(tables) == {f"frozenlake_4x4/{m}/{s}" for m in ("q_learning", "sarsa", "expected_sarsa") for s in (0, 1)}
    rewards, summary, _ = nodes.td_cliff(params["cliff"], solutions)
    assert rewards.groupby(["method", "seed"]).size().eq(params["cliff"]["episodes"]).all()
    assert figures.cliff_figure(rewards, summary, 5).axes and figures.frozenlake_figure(curves, results).axes


def test_policy_gradient_nodes(params, tmp_path):
    pg = {**params["policy_gradient"], "methods": ["baseline", "a2c"], "seeds": [0],
          "loop": {"log_every": 1, "checkpoint_every": None}}
    curves, results, agents, snapshot = nodes.train_policy_gradients(pg, {**TRAINER, "data_root": str(tmp_path)})
    assert set(results["method"]) == {"baseline", "a2c"} and set(agents) == {"baseline/0", "a2c/0"}
    variance = nodes.gradient_variance(snapshot, pg)
    assert variance["variance_ratio_to_reinforce"].iloc[0] == 1.0
    agent, name = nodes.best_agent(results, agents)
    assert name in {"baseline/0", "a2c/0"}
    assert nodes.explain_data(agent, pg)["observations"].shape[1] == 4
    with pytest.raises(ValueError, match="no snapshot was taken"):
        nodes.train_policy_gradients({**pg, "methods": ["a2c"]}, {**TRAINER, "data_root": str(tmp_path)})


@pytest.mark.parametrize(("path", "value", "key", "problem"), [
    ("cliff.methods", ["sarsa", "q_learning", "td0"], "cliff.methods.2", "'q_learning', 'sarsa' or 'expected_sarsa'"),
    ("dp.envs.taxi.env_id", "Taxi-v3", "dp.envs.taxi.env_id", "unknown Gymnasium environment 'Taxi-v3'"),
    ("policy_gradient.snapshot_update", 1000, "policy_gradient", "snapshot_update 1000 is past"),
    ("frozenlake.envs", ["frozenlake_4x4", "lake"], "frozenlake", "episodes: no count for ['lake']"),
])
def test_bad_parameters_name_the_key(path, value, key, problem):
    assert_named_before_the_run("reinforcement_learning", path, value, key, problem)


def test_summary_metrics_drop_nothing_finite():
    empty = pd.DataFrame(columns=["env", "optimal_return_exact", "max_value_gap"])
    assert nodes.summary_metrics(empty, pd.DataFrame(columns=["env", "method", "success_mean"]),
                                 pd.DataFrame(columns=["method", "online_reward_mean", "greedy_return_mean"]),
                                 pd.DataFrame(columns=["method", "eval_mean", "solved"]),
                                 pd.DataFrame(columns=["estimator", "trace_cov_per_episode"])) == {}
