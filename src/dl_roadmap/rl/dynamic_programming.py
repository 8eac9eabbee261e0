"""Value iteration and policy iteration on a known model: the exact reference for tabular RL.

A finite MDP is read from the environment's own transition table ``env.unwrapped.P``
(``P[s][a] = [(p, s', r, terminated), ...]``, Gymnasium's toy-text format) into arrays

    T[s, a, s'] = sum of p over outcomes of (s, a) that land in s' and do not terminate
    R[s, a]     = sum of p * r over the outcomes of (s, a)           (expected reward)

so that an episode's end simply drops the future: the Bellman optimality operator is

    (B V)(s) = max_a  R[s, a] + gamma * sum_s' T[s, a, s'] V(s')          (Sutton & Barto eq. 4.10)

- **value iteration** applies B until ``max |V_{k+1} - V_k| < tol`` (a gamma-contraction,
  so the greedy policy of the limit is optimal);
- **policy iteration** alternates exact evaluation of the current policy pi,
  ``V_pi = (I - gamma T_pi)^{-1} R_pi`` (a linear solve), with greedy improvement, and stops
  when the policy no longer changes (S&B section 4.3); it ends in finitely many steps.

Both must give the same V* (to ``tol``) and policies that are greedy with respect to it
(two actions may tie: FrozenLake's corners, Taxi's symmetric routes). ``horizon_value``
evaluates a fixed policy with no discount over a finite horizon, which for FrozenLake
(reward 1 only at the goal) is the exact probability of reaching the goal before the
environment's time limit: what a greedy agent's "success rate" estimates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TabularMDP:
    """Arrays of a finite MDP read from a transition table (see the module docstring)."""

    T: np.ndarray  # (S, A, S) probabilities of continuing into s'
    R: np.ndarray  # (S, A) expected rewards
    start: np.ndarray  # (S,) initial-state distribution

    @property
    def n_states(self) -> int:
        return self.R.shape[0]

    @property
    def n_actions(self) -> int:
        return self.R.shape[1]


def mdp_from_table(P: dict, n_states: int, n_actions: int, start: np.ndarray) -> TabularMDP:
    """``P[s][a] = [(p, s', r, terminated), ...]`` -> TabularMDP (probabilities of each (s, a) must sum to 1)."""
    T = np.zeros((n_states, n_actions, n_states))
    R = np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            outcomes = P[s][a]
            total = sum(p for p, *_ in outcomes)
            if abs(total - 1.0) > 1e-9:
                raise ValueError(f"transition table: P[{s}][{a}] probabilities sum to {total}, not 1")
            for p, nxt, reward, terminated in outcomes:
                R[s, a] += p * reward
                if not terminated:
                    T[s, a, nxt] += p
    return TabularMDP(T, R, np.asarray(start, dtype=float))


def mdp_from_env(env_id: str, **env_kwargs) -> TabularMDP:
    """The MDP of a Gymnasium toy-text environment (FrozenLake, CliffWalking, Taxi) from its table P."""
    from dl_roadmap.rl.envs import make_env

    env = make_env(env_id, **env_kwargs)
    inner = env.unwrapped
    if not hasattr(inner, "P"):
        raise ValueError(f"{env_id}: has no transition table P (dynamic programming needs a toy-text environment)")
    mdp = mdp_from_table(inner.P, env.observation_space.n, env.action_space.n, inner.initial_state_distrib)
    env.close()
    return mdp


def q_values(mdp: TabularMDP, V: np.ndarray, gamma: float) -> np.ndarray:
    """Q[s, a] = R[s, a] + gamma * sum_s' T[s, a, s'] V(s')."""
    return mdp.R + gamma * mdp.T @ V


@dataclass(frozen=True)
class Solution:
    V: np.ndarray  # (S,) state values
    policy: np.ndarray  # (S,) greedy actions (lowest index among ties)
    iterations: int  # sweeps (value iteration) or improvement steps (policy iteration)
    seconds: float


def value_iteration(mdp: TabularMDP, gamma: float, tol: float = 1e-10, max_iterations: int = 100_000) -> Solution:
    """Apply the Bellman optimality operator until the largest change is below ``tol``."""
    started = time.perf_counter()
    V = np.zeros(mdp.n_states)
    for iteration in range(1, max_iterations + 1):
        new = q_values(mdp, V, gamma).max(axis=1)
        delta = np.abs(new - V).max()
        V = new
        if delta < tol:
            break
    else:
        raise RuntimeError(f"value iteration did not converge in {max_iterations} sweeps (gamma={gamma})")
    policy = q_values(mdp, V, gamma).argmax(axis=1)
    return Solution(V, policy, iteration, time.perf_counter() - started)


def evaluate_exactly(mdp: TabularMDP, policy: np.ndarray, gamma: float) -> np.ndarray:
    """V_pi by the linear solve (I - gamma T_pi) V = R_pi (S&B eq. 4.4 as a linear system)."""
    states = np.arange(mdp.n_states)
    T_pi, R_pi = mdp.T[states, policy], mdp.R[states, policy]
    return np.linalg.solve(np.eye(mdp.n_states) - gamma * T_pi, R_pi)


def policy_iteration(mdp: TabularMDP, gamma: float, max_iterations: int = 1_000) -> Solution:
    """Evaluate exactly, improve greedily; stop when no state's action changes.

    Improvement keeps the current action unless another is strictly better (by more than
    1e-12), so ties cannot make the policy cycle between equally good actions."""
    if gamma >= 1.0:
        raise ValueError("policy iteration: gamma must be < 1 (an improper policy makes the linear system singular)")
    started = time.perf_counter()
    policy = np.zeros(mdp.n_states, dtype=int)
    states = np.arange(mdp.n_states)
    for iteration in range(1, max_iterations + 1):
        V = evaluate_exactly(mdp, policy, gamma)
        Q = q_values(mdp, V, gamma)
        best = Q.argmax(axis=1)
        improved = Q[states, best] > Q[states, policy] + 1e-12
        if not improved.any():
            break
        policy = np.where(improved, best, policy)
    else:
        raise RuntimeError(f"policy iteration did not converge in {max_iterations} steps")
    return Solution(V, policy, iteration, time.perf_counter() - started)


def optimal_actions(mdp: TabularMDP, V: np.ndarray, gamma: float, tol: float = 1e-6) -> np.ndarray:
    """(S, A) mask of the actions within ``tol`` of the best under V (several where actions tie)."""
    Q = q_values(mdp, V, gamma)
    return Q >= Q.max(axis=1, keepdims=True) - tol


def horizon_value(mdp: TabularMDP, policy: np.ndarray, horizon: int) -> float:
    """Expected undiscounted return of ``policy`` within ``horizon`` steps from the start
    distribution: V_0 = 0, V_{k+1} = R_pi + T_pi V_k. ``policy`` may be (S,) or a batch (L, S)."""
    policies = np.atleast_2d(policy)
    states = np.arange(mdp.n_states)
    T_pi = mdp.T[states[None, :], policies]  # (L, S, S)
    R_pi = mdp.R[states[None, :], policies]  # (L, S)
    V = np.zeros_like(R_pi)
    for _ in range(int(horizon)):
        V = R_pi + np.einsum("lst,lt->ls", T_pi, V)
    values = V @ mdp.start
    return float(values[0]) if np.ndim(policy) == 1 else values
