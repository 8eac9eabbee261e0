"""TD control: the table stepper against Gymnasium, the update targets, and Example 6.6."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from dl_roadmap.rl.dynamic_programming import horizon_value, mdp_from_env
from dl_roadmap.rl.envs import make_env
from dl_roadmap.rl.policy_model import PolicyModel
from dl_roadmap.rl.tabular import TableEnv, TabularPolicy, _expected_value, greedy_policy, learn


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "Taxi-v4"])
def test_the_table_steps_exactly_as_gymnasium(env_id):
    table = TableEnv.from_env(env_id)
    env = make_env(env_id)
    state, _ = env.reset(seed=3)
    rng = copy.deepcopy(env.unwrapped.np_random)  # the stream Gymnasium draws from next
    actions = np.random.default_rng(0).integers(0, env.action_space.n, 300)
    for action in actions:
        expected = table.step(state, int(action), rng.random())
        state, reward, terminated, _, _ = env.step(int(action))
        assert (state, reward, terminated) == expected
        if terminated:
            state, _ = env.reset(seed=int(action))
            rng = copy.deepcopy(env.unwrapped.np_random)


def test_expected_sarsa_target_is_the_eps_greedy_expectation():
    q = np.array([1.0, 3.0, 3.0, -2.0])
    eps = 0.2
    pi = np.full(4, eps / 4) + np.array([0, 1, 1, 0]) * (1 - eps) / 2
    assert _expected_value(q, eps) == pytest.approx(float(pi @ q))


def test_example_6_6_sarsa_safe_q_learning_optimal():
    env = TableEnv.from_env("CliffWalking-v1")
    mdp = mdp_from_env("CliffWalking-v1")
    online, greedy = {}, {}
    for method in ("sarsa", "q_learning"):
        runs = [learn(env, method, seed, 500, 0.5, 1.0, 0.1) for seed in range(5)]
        online[method] = np.mean([run.returns[100:].mean() for run in runs])
        greedy[method] = [horizon_value(mdp, greedy_policy(run.Q), 100) for run in runs]
    assert online["sarsa"] > online["q_learning"] + 10  # the book: about -25 against -50
    assert greedy["q_learning"] == [-13.0] * 5  # the edge path: 13 steps
    assert max(greedy["sarsa"]) < -13.0  # a longer, safer path


def test_learning_is_seeded_and_reaches_the_frozenlake_optimum():
    env = TableEnv.from_env("FrozenLake-v1")
    mdp = mdp_from_env("FrozenLake-v1")
    first = learn(env, "q_learning", 0, 3000, 0.1, 0.99, (1.0, 0.05, 1500), checkpoint_every=1000)
    again = learn(env, "q_learning", 0, 3000, 0.1, 0.99, (1.0, 0.05, 1500), checkpoint_every=1000)
    assert np.array_equal(first.Q, again.Q) and first.checkpoints.shape == (3, 16)
    assert horizon_value(mdp, greedy_policy(first.Q), 100) > 0.6  # the optimum is 0.740
    with pytest.raises(ValueError, match="unknown 'td0'"):
        learn(env, "td0", 0, 1, 0.1, 0.99, 0.1)


def test_a_q_table_as_a_policy_model():
    Q = np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.6]])
    model = PolicyModel(TabularPolicy(Q), discrete=True)
    assert model.predict(None, np.array([[0], [1], [2]])).tolist() == [1, 0, 1]
    assert model.act(1) == 0
    with pytest.raises(ValueError, match=r"states must be integers in \[0, 3\)"):
        model.predict(None, np.array([[5.0]]))
    assert torch.equal(TabularPolicy(Q)(torch.tensor([[2.0]])), torch.tensor([[0.5, 0.6]]))
