"""Q-learning, SARSA and Expected SARSA from their update rules.

One update per step, after taking ``a`` in ``s`` and seeing ``r, s'`` (Sutton & Barto ch. 6):

    Q(s, a) <- Q(s, a) + alpha * [ r + gamma * G(s') - Q(s, a) ]

    Q-learning      G(s') = max_a' Q(s', a')                    off-policy (eq. 6.8)
    SARSA           G(s') = Q(s', a'),  a' ~ eps-greedy(Q)(s')  the action it will take (eq. 6.7)
    Expected SARSA  G(s') = sum_a' pi(a'|s') Q(s', a')          pi = eps-greedy(Q) (eq. 6.9)

and G = 0 when ``s'`` ends the episode (a time limit cuts the episode but is not an end:
the target still bootstraps). Behaviour is eps-greedy with ties broken at random, so a
zero-initialised table does not always pick action 0.

Speed: the figures need tens of thousands of episodes for each of several seeds and three
methods, one small update per step. The loop is the book's pseudo-code, compiled with
Numba (``njit``; first call compiles in a few seconds, cached on disk after). It steps the
environment's own transition table (Gymnasium's ``env.unwrapped.P`` as padded arrays,
``TableEnv``), drawing an outcome exactly as Gymnasium's toy-text ``step`` does: the first
outcome whose cumulative probability exceeds one uniform draw (tests/rl checks it step
for step against the environment).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numba import njit
from torch import nn

METHODS = ("q_learning", "sarsa", "expected_sarsa")


@dataclass(frozen=True)
class TableEnv:
    """A toy-text environment's transition table as arrays (K = most outcomes of any (s, a))."""

    cumulative: np.ndarray  # (S, A, K) cumulative outcome probabilities (padding 2.0: never drawn)
    next_state: np.ndarray  # (S, A, K) int64
    reward: np.ndarray  # (S, A, K)
    terminated: np.ndarray  # (S, A, K) bool
    start: np.ndarray  # (S,) initial-state distribution
    time_limit: int | None  # the registered max_episode_steps (None: no limit, e.g. CliffWalking)

    @classmethod
    def from_env(cls, env_id: str, **env_kwargs) -> TableEnv:
        from dl_roadmap.rl.envs import make_env

        env = make_env(env_id, **env_kwargs)
        inner, limit = env.unwrapped, env.spec.max_episode_steps
        S, A = env.observation_space.n, env.action_space.n
        K = max(len(inner.P[s][a]) for s in range(S) for a in range(A))
        cumulative = np.full((S, A, K), 2.0)
        next_state = np.zeros((S, A, K), dtype=np.int64)
        reward = np.zeros((S, A, K))
        terminated = np.zeros((S, A, K), dtype=bool)
        for s in range(S):
            for a in range(A):
                outcomes = inner.P[s][a]
                cumulative[s, a, : len(outcomes)] = np.cumsum([p for p, *_ in outcomes])
                for k, (_, nxt, r, done) in enumerate(outcomes):
                    next_state[s, a, k], reward[s, a, k], terminated[s, a, k] = nxt, r, done
        env.close()
        return cls(cumulative, next_state, reward, terminated, np.asarray(inner.initial_state_distrib, float), limit)

    @property
    def n_states(self) -> int:
        return self.cumulative.shape[0]

    @property
    def n_actions(self) -> int:
        return self.cumulative.shape[1]

    def step(self, s: int, a: int, u: float) -> tuple[int, float, bool]:
        """The outcome of ``a`` in ``s`` for the uniform draw ``u`` (as Gymnasium draws it)."""
        k = _outcome(self.cumulative[s, a], u)
        return int(self.next_state[s, a, k]), float(self.reward[s, a, k]), bool(self.terminated[s, a, k])


@njit(cache=True)
def _outcome(cumulative: np.ndarray, u: float) -> int:
    """Gymnasium's categorical_sample: argmax(cumsum(p) > u)."""
    for k in range(cumulative.shape[0]):
        if cumulative[k] > u:
            return k
    return cumulative.shape[0] - 1


@njit(cache=True)
def _epsilon_greedy(q: np.ndarray, epsilon: float) -> int:
    """Random with probability epsilon, else a best action (ties broken uniformly at random)."""
    n = q.shape[0]
    if np.random.random() < epsilon:
        return np.random.randint(n)
    best, ties = q.max(), 0
    for a in range(n):
        if q[a] == best:
            ties += 1
    pick = np.random.randint(ties)
    for a in range(n):
        if q[a] == best:
            if pick == 0:
                return a
            pick -= 1
    return 0


@njit(cache=True)
def _expected_value(q: np.ndarray, epsilon: float) -> float:
    """sum_a pi(a) q(a) for pi = eps-greedy(q), the greedy mass shared among tied best actions."""
    # pi(a) = eps/A + (1 - eps)/ties for each of the tied best actions: their greedy share sums to best.
    return epsilon * q.mean() + (1.0 - epsilon) * q.max()


@njit(cache=True)
def _run(method: int, cumulative, next_state, reward, terminated, start_cumulative, time_limit: int,
         episodes: int, alpha: float, gamma: float, eps_start: float, eps_end: float, eps_decay: float,
         seed: int, checkpoint_every: int):
    """One run of one method (0 Q-learning, 1 SARSA, 2 Expected SARSA): the book's loop."""
    np.random.seed(seed)
    S, A = cumulative.shape[0], cumulative.shape[1]
    Q = np.zeros((S, A))
    returns = np.zeros(episodes)
    lengths = np.zeros(episodes, dtype=np.int64)
    n_checkpoints = episodes // checkpoint_every if checkpoint_every > 0 else 0
    checkpoints = np.zeros((n_checkpoints, S), dtype=np.int64)
    for episode in range(episodes):
        # linear decay from eps_start to eps_end over eps_decay episodes (eps_decay 0: constant eps_start)
        epsilon = eps_start if eps_decay <= 0 else max(eps_end, eps_start - (eps_start - eps_end) * episode / eps_decay)
        s = _outcome(start_cumulative, np.random.random())
        a = _epsilon_greedy(Q[s], epsilon)
        total, steps = 0.0, 0
        while True:
            k = _outcome(cumulative[s, a], np.random.random())
            s2, r, done = next_state[s, a, k], reward[s, a, k], terminated[s, a, k]
            steps += 1
            total += r
            a2 = _epsilon_greedy(Q[s2], epsilon)
            if done:
                g = 0.0
            elif method == 0:
                g = Q[s2].max()
            elif method == 1:
                g = Q[s2, a2]
            else:
                g = _expected_value(Q[s2], epsilon)
            Q[s, a] += alpha * (r + gamma * g - Q[s, a])
            s, a = s2, a2
            if done or steps >= time_limit:
                break
        returns[episode], lengths[episode] = total, steps
        if checkpoint_every > 0 and (episode + 1) % checkpoint_every == 0:
            for state in range(S):
                checkpoints[(episode + 1) // checkpoint_every - 1, state] = np.argmax(Q[state])
    return Q, returns, lengths, checkpoints


@dataclass
class TDRun:
    method: str
    seed: int
    Q: np.ndarray  # (S, A) final table
    returns: np.ndarray  # (episodes,) undiscounted return of every training episode
    lengths: np.ndarray  # (episodes,) steps of every training episode
    checkpoints: np.ndarray  # (episodes // checkpoint_every, S) greedy policies along the way


def learn(env: TableEnv, method: str, seed: int, episodes: int, alpha: float, gamma: float,
          epsilon: float | tuple[float, float, int], checkpoint_every: int = 0,
          max_steps_per_episode: int | None = None) -> TDRun:
    """One run of ``method`` (one of METHODS).

    ``epsilon`` is a constant or ``(start, end, decay_episodes)``: a linear decay.
    ``checkpoint_every`` keeps the greedy policy every that many episodes (0: never);
    an episode ends at the goal or at the environment's time limit (or
    ``max_steps_per_episode``, for CliffWalking that has none).
    """
    if method not in METHODS:
        raise ValueError(f"td method: unknown {method!r}; choose from {list(METHODS)}")
    eps_start, eps_end, decay = (float(epsilon), float(epsilon), 0) if np.isscalar(epsilon) else epsilon
    limit = min(x for x in (env.time_limit, max_steps_per_episode, 10**9) if x is not None)
    Q, returns, lengths, checkpoints = _run(
        METHODS.index(method), env.cumulative, env.next_state, env.reward, env.terminated, np.cumsum(env.start),
        int(limit), int(episodes), float(alpha), float(gamma), float(eps_start), float(eps_end), float(decay),
        int(seed), int(checkpoint_every))
    return TDRun(method, int(seed), Q, returns, lengths, checkpoints)


def greedy_policy(Q: np.ndarray) -> np.ndarray:
    """argmax_a Q(s, a) per state (lowest index among ties), for a table (S, A) or a batch (L, S, A)."""
    return Q.argmax(axis=-1)


class TabularPolicy(nn.Module):
    """A Q table as a module for ``PolicyModel``: a state index (N, 1) -> its row of Q (N, A),
    whose argmax is the greedy action."""

    observation_shape = (1,)

    def __init__(self, Q: np.ndarray):
        super().__init__()
        self.register_buffer("q", torch.as_tensor(np.asarray(Q), dtype=torch.float32))

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        index = states.reshape(-1).round().long()
        if index.numel() and (index.min() < 0 or index.max() >= self.q.shape[0]):
            raise ValueError(f"TabularPolicy: states must be integers in [0, {self.q.shape[0]}), "
                             f"got {index.min().item()}..{index.max().item()}")
        return self.q[index]
