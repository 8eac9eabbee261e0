"""Value iteration and policy iteration: a hand-solved MDP, agreement on the toy-text
environments, and the finite-horizon value against Monte Carlo on Gymnasium's env."""

from __future__ import annotations

import numpy as np
import pytest

from dl_roadmap.rl.dynamic_programming import (evaluate_exactly, horizon_value, mdp_from_env, mdp_from_table,
                                               optimal_actions, policy_iteration, value_iteration)
from dl_roadmap.rl.evaluate import evaluate_policy

# Two states: in 0, action 0 stays (+1), action 1 ends the episode with +5. gamma = 0.9:
# staying forever is worth 1 / (1 - 0.9) = 10 > 5, so V*(0) = 10 and pi*(0) = 0.
TWO_STATES = {0: {0: [(1.0, 0, 1.0, False)], 1: [(1.0, 1, 5.0, True)]},
              1: {0: [(1.0, 1, 0.0, True)], 1: [(1.0, 1, 0.0, True)]}}


def test_a_hand_solved_mdp():
    mdp = mdp_from_table(TWO_STATES, 2, 2, np.array([1.0, 0.0]))
    for solution in (value_iteration(mdp, 0.9), policy_iteration(mdp, 0.9)):
        assert solution.V[0] == pytest.approx(10.0, abs=1e-8) and solution.policy[0] == 0
    # with gamma 0.7 staying is worth 1 / 0.3 = 3.33 < 5: leave at once
    assert policy_iteration(mdp, 0.7).policy[0] == 1
    assert evaluate_exactly(mdp, np.array([1, 0]), 0.9)[0] == pytest.approx(5.0)


def test_bad_tables_and_gamma_are_refused():
    broken = {0: {0: [(0.5, 0, 0.0, False)]}}
    with pytest.raises(ValueError, match=r"P\[0\]\[0\] probabilities sum to 0.5"):
        mdp_from_table(broken, 1, 1, np.array([1.0]))
    with pytest.raises(ValueError, match="gamma must be < 1"):
        policy_iteration(mdp_from_table(TWO_STATES, 2, 2, np.array([1.0, 0.0])), 1.0)


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "CliffWalking-v1", "Taxi-v4"])
def test_value_and_policy_iteration_agree(env_id):
    mdp = mdp_from_env(env_id)
    vi, pi = value_iteration(mdp, 0.99), policy_iteration(mdp, 0.99)
    assert np.abs(vi.V - pi.V).max() < 1e-7
    assert optimal_actions(mdp, vi.V, 0.99)[np.arange(mdp.n_states), pi.policy].all()


def test_finite_horizon_value_is_the_success_rate_on_gymnasium():
    mdp = mdp_from_env("FrozenLake-v1")
    policy = value_iteration(mdp, 0.99).policy
    exact = horizon_value(mdp, policy, 100)
    assert exact == pytest.approx(0.7402, abs=1e-4)  # the optimum of the slippery 4x4 lake within 100 steps
    returns = evaluate_policy("FrozenLake-v1", lambda s: int(policy[s]), episodes=2000, seed=0)
    assert abs(returns.mean() - exact) < 3 * np.sqrt(exact * (1 - exact) / 2000)
    assert horizon_value(mdp, np.stack([policy, policy]), 100) == pytest.approx([exact, exact])
