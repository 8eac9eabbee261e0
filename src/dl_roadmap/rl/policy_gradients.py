"""REINFORCE (total return, reward-to-go, learned baseline) and advantage actor-critic (A2C).

The policy-gradient theorem (Williams 1992; Sutton & Barto ch. 13) for a softmax policy
pi_theta(a|s) and episodes tau = (s_0, a_0, r_0, ...):

    grad J(theta) = E_tau [ sum_t grad log pi(a_t|s_t) * Psi_t ]

with any of these weights Psi_t giving the same expectation but not the same variance
(Schulman et al. 2016, "GAE", section 2):

    reinforce       Psi_t = G_0 = sum_k gamma^k r_k             the whole episode's return
    reward_to_go    Psi_t = G_t = sum_{k>=t} gamma^(k-t) r_k     actions do not cause past rewards
    baseline        Psi_t = G_t - V_w(s_t)                       V_w fitted to G_t by least squares
    a2c             Psi_t = A_t = sum_l (gamma lambda)^l delta_{t+l},  delta_t = r_t + gamma V(s_{t+1}) - V(s_t)

The first three learn from batches of whole episodes (Monte Carlo); A2C (Mnih et al. 2016,
synchronous) learns from short rollouts of parallel environments, bootstrapping from the
critic, with an entropy bonus. The estimate of grad J is the batch mean over episodes
(REINFORCE) or time steps (A2C); Adam follows it.

Environments: Gymnasium's batched ``CartPoleVectorEnv`` (``gym.make_vec(...,
vectorization_mode="vector_entry_point")``), which resets a finished lane on the *next*
step (that step's reward is 0 and its action ignored: such steps are dropped here).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from dl_roadmap.rl.networks import mlp

METHODS = ("reinforce", "reward_to_go", "baseline", "a2c")


class ActorCritic(nn.Module):
    """Policy logits pi(.|s) and, for the methods that use one, a state value V(s)."""

    def __init__(self, observation_size: int, n_actions: int, hidden: list[int]):
        super().__init__()
        self.policy = mlp([observation_size, *hidden, n_actions], nn.Tanh)
        self.value = mlp([observation_size, *hidden, 1], nn.Tanh)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.policy(observations)


def make_vector_env(env_id: str, lanes: int):
    """``lanes`` copies of ``env_id`` stepped as one batch (Gymnasium's vectorised CartPole)."""
    import gymnasium as gym

    from dl_roadmap.rl.envs import check_env_id

    check_env_id(env_id)
    return gym.make_vec(env_id, num_envs=int(lanes), vectorization_mode="vector_entry_point")


def discounted_to_go(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = r_t + gamma G_{t+1} along one episode's rewards."""
    out = np.zeros(len(rewards))
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


@dataclass
class Episodes:
    """A batch of whole episodes, concatenated: episode i holds steps [starts[i], starts[i+1])."""

    observations: np.ndarray  # (steps, obs)
    actions: np.ndarray  # (steps,)
    rewards: np.ndarray  # (steps,)
    starts: np.ndarray  # (episodes + 1,)

    @property
    def returns(self) -> np.ndarray:
        return np.add.reduceat(self.rewards, self.starts[:-1])


def sample_episodes(agent: ActorCritic, venv, count: int, seed: int) -> Episodes:
    """``count`` whole episodes, one per lane of ``venv`` (which must have ``count`` lanes), sampling actions."""
    obs, _ = venv.reset(seed=int(seed))
    rng = np.random.default_rng(seed)
    lanes = np.arange(count)
    done = np.zeros(count, dtype=bool)
    trace: list[tuple[np.ndarray, ...]] = []
    while not done.all():
        with torch.no_grad():
            probs = torch.softmax(agent.policy(torch.as_tensor(obs)), dim=1).numpy()
        actions = (rng.random(count)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1).clip(0, probs.shape[1] - 1)
        next_obs, rewards, terminated, truncated, _ = venv.step(actions)
        trace.append((obs, actions, rewards, ~done))
        done |= terminated | truncated
        obs = next_obs
    observations, actions, rewards, alive = (np.stack(x) for x in zip(*trace))  # (time, lanes, ...)
    keep = [np.flatnonzero(alive[:, lane]) for lane in lanes]  # each lane's own first episode
    starts = np.concatenate([[0], np.cumsum([len(k) for k in keep])])
    return Episodes(np.concatenate([observations[k, lane] for lane, k in enumerate(keep)]).astype(np.float32),
                    np.concatenate([actions[k, lane] for lane, k in enumerate(keep)]),
                    np.concatenate([rewards[k, lane] for lane, k in enumerate(keep)]).astype(float), starts)


def episode_weights(batch: Episodes, method: str, gamma: float, values: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(Psi_t for each step, G_t for each step) of a REINFORCE variant (see the module docstring)."""
    to_go = np.concatenate([discounted_to_go(batch.rewards[a:b], gamma)
                            for a, b in zip(batch.starts[:-1], batch.starts[1:])])
    if method == "reinforce":
        first = np.repeat(to_go[batch.starts[:-1]], np.diff(batch.starts))
        return first, to_go
    if method == "reward_to_go":
        return to_go, to_go
    if method == "baseline":
        if values is None:
            raise ValueError("the baseline method needs V(s_t)")
        return to_go - values, to_go
    raise ValueError(f"episode_weights: {method!r} is not a REINFORCE variant")


def surrogate(agent: ActorCritic, observations: torch.Tensor, actions: torch.Tensor, weights: torch.Tensor,
              episodes: int) -> torch.Tensor:
    """-(1/N) sum_episodes sum_t log pi(a_t|s_t) Psi_t, whose gradient is minus the estimate of grad J."""
    log_probs = torch.log_softmax(agent.policy(observations), dim=1).gather(1, actions[:, None]).squeeze(1)
    return -(log_probs * weights).sum() / episodes


@dataclass
class PGTrainer:
    """Everything one training run changes: the networks, their optimisers, the environment."""

    method: str
    agent: ActorCritic
    settings: dict[str, Any]
    seed: int
    venv: Any = None
    policy_optimizer: torch.optim.Optimizer = field(init=False)
    value_optimizer: torch.optim.Optimizer = field(init=False)
    env_steps: int = 0
    updates: int = 0
    recent_returns: list[float] = field(default_factory=list)
    snapshot: ActorCritic | None = None  # the agent after ``snapshot_update`` updates (gradient variance)
    curve: list[dict[str, float]] = field(default_factory=list)  # one row per update
    _obs: np.ndarray | None = None
    _rng: np.random.Generator | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"policy gradient method: unknown {self.method!r}; choose from {list(METHODS)}")
        s = self.settings
        if self.method == "a2c":  # one optimiser, one loss: policy + value_coef * value - entropy bonus
            self.policy_optimizer = torch.optim.Adam(self.agent.parameters(), lr=s["a2c"]["lr"])
        else:
            self.policy_optimizer = torch.optim.Adam(self.agent.policy.parameters(), lr=s["lr"])
        self.value_optimizer = torch.optim.Adam(self.agent.value.parameters(), lr=s["value_lr"])
        lanes = s["a2c"]["lanes"] if self.method == "a2c" else s["episodes_per_update"]
        self.venv = make_vector_env(s["env_id"], lanes)
        self._rng = np.random.default_rng(self.seed)

    def state_dict(self) -> dict[str, Any]:
        return {"agent": self.agent.state_dict(), "policy_optimizer": self.policy_optimizer.state_dict(),
                "value_optimizer": self.value_optimizer.state_dict(), "env_steps": self.env_steps,
                "updates": self.updates, "curve": list(self.curve)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.agent.load_state_dict(state["agent"])
        self.policy_optimizer.load_state_dict(state["policy_optimizer"])
        self.value_optimizer.load_state_dict(state["value_optimizer"])
        self.env_steps, self.updates, self.curve = state["env_steps"], state["updates"], list(state["curve"])

    # --- REINFORCE: one update from a batch of whole episodes -------------------------------
    def reinforce_update(self) -> dict[str, float]:
        s = self.settings
        batch = sample_episodes(self.agent, self.venv, s["episodes_per_update"], int(self._rng.integers(2**31)))
        obs = torch.as_tensor(batch.observations)
        with torch.no_grad():
            values = self.agent.value(obs).squeeze(1).numpy()
        weights, to_go = episode_weights(batch, self.method, s["gamma"], values)
        episodes = len(batch.starts) - 1
        loss = surrogate(self.agent, obs, torch.as_tensor(batch.actions), torch.as_tensor(weights, dtype=torch.float32),
                         episodes)
        self.policy_optimizer.zero_grad()
        loss.backward()
        self.policy_optimizer.step()
        if self.method == "baseline":  # V_w(s_t) ~ G_t: a few steps of least squares on this batch
            target = torch.as_tensor(to_go, dtype=torch.float32)
            for _ in range(s["value_steps"]):
                value_loss = ((self.agent.value(obs).squeeze(1) - target) ** 2).mean()
                self.value_optimizer.zero_grad()
                value_loss.backward()
                self.value_optimizer.step()
        self.env_steps += len(batch.rewards)
        return {"return": float(batch.returns.mean()), "env_steps": self.env_steps}

    # --- A2C: one update from a short rollout of every lane ---------------------------------
    def a2c_update(self) -> dict[str, float]:
        s, a2c = self.settings, self.settings["a2c"]
        if self._obs is None:
            self._obs, _ = self.venv.reset(seed=self.seed)
            self._valid = np.ones(a2c["lanes"], dtype=bool)  # False: this step only resets the lane
            self._running = np.zeros(a2c["lanes"])
        obs_list, act_list, rew_list, term_list, done_list, valid_list, finished = [], [], [], [], [], [], []
        for _ in range(a2c["steps"]):
            with torch.no_grad():
                probs = torch.softmax(self.agent.policy(torch.as_tensor(self._obs)), dim=1).numpy()
            actions = (self._rng.random(len(probs))[:, None] > np.cumsum(probs, axis=1)).sum(1).clip(0, probs.shape[1] - 1)
            next_obs, rewards, terminated, truncated, _ = self.venv.step(actions)
            obs_list.append(self._obs)
            act_list.append(actions)
            rew_list.append(rewards)
            term_list.append(terminated)
            done_list.append(terminated | truncated)
            valid_list.append(self._valid.copy())
            self._running += rewards
            for lane in np.flatnonzero(terminated | truncated):
                finished.append(self._running[lane])
                self._running[lane] = 0.0
            self._valid = ~(terminated | truncated)
            self._obs = next_obs
        obs = torch.as_tensor(np.stack(obs_list + [self._obs]))  # (T + 1, lanes, obs)
        values = self.agent.value(obs).squeeze(-1)  # V(s_t) and, last, V(s_T) to bootstrap from
        rewards, terminated = np.stack(rew_list), np.stack(term_list)
        done, valid = np.stack(done_list), np.stack(valid_list)
        with torch.no_grad():  # GAE: A_t = delta_t + gamma lambda A_{t+1}, cut at episode ends
            v = values.numpy()
            advantages = np.zeros_like(rewards, dtype=float)
            running = np.zeros(rewards.shape[1])
            for t in range(len(rewards) - 1, -1, -1):
                delta = rewards[t] + s["gamma"] * (1.0 - terminated[t]) * v[t + 1] - v[t]
                running = delta + s["gamma"] * a2c["gae_lambda"] * (1.0 - done[t]) * running
                advantages[t] = running
        mask = torch.as_tensor(valid.reshape(-1))
        adv = torch.as_tensor(advantages.reshape(-1), dtype=torch.float32)[mask]
        returns = adv + values[:-1].reshape(-1)[mask].detach()
        logits = self.agent.policy(obs[:-1].reshape(-1, obs.shape[-1]))[mask]
        log_probs = torch.log_softmax(logits, dim=1)
        taken = log_probs.gather(1, torch.as_tensor(np.stack(act_list).reshape(-1))[mask][:, None]).squeeze(1)
        entropy = -(log_probs.exp() * log_probs).sum(1).mean()
        loss = (-(taken * adv).mean() + a2c["value_coef"] * ((values[:-1].reshape(-1)[mask] - returns) ** 2).mean()
                - a2c["entropy_coef"] * entropy)
        self.policy_optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.agent.parameters(), a2c["max_grad_norm"])
        self.policy_optimizer.step()
        self.env_steps += int(valid.sum())
        self.recent_returns = (self.recent_returns + finished)[-20:]
        mean = float(np.mean(self.recent_returns)) if self.recent_returns else float("nan")
        return {"return": mean, "env_steps": self.env_steps}

    def update(self) -> dict[str, float]:
        metrics = self.a2c_update() if self.method == "a2c" else self.reinforce_update()
        self.updates += 1
        self.curve.append({"update": self.updates, **metrics})
        if self.updates == self.settings.get("snapshot_update"):
            self.snapshot = copy.deepcopy(self.agent)
        return metrics


def per_episode_gradients(agent: ActorCritic, batch: Episodes, gamma: float) -> dict[str, np.ndarray]:
    """For each REINFORCE variant, the gradient of each episode's term alone: (episodes, parameters).

    The batch estimate of grad J is the mean of N of these, so its covariance is theirs / N:
    the per-episode covariance decides how many episodes a good estimate needs."""
    obs = torch.as_tensor(batch.observations)
    actions = torch.as_tensor(batch.actions)
    with torch.no_grad():
        values = agent.value(obs).squeeze(1).numpy()
    params = list(agent.policy.parameters())
    out: dict[str, list[np.ndarray]] = {m: [] for m in ("reinforce", "reward_to_go", "baseline")}
    for method in out:
        weights, _ = episode_weights(batch, method, gamma, values)
        weights = torch.as_tensor(weights, dtype=torch.float32)
        for a, b in zip(batch.starts[:-1], batch.starts[1:]):
            grads = torch.autograd.grad(-surrogate(agent, obs[a:b], actions[a:b], weights[a:b], 1), params)
            out[method].append(torch.cat([g.reshape(-1) for g in grads]).numpy())
    return {method: np.stack(rows) for method, rows in out.items()}
