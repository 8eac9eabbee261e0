"""Soft actor-critic (Haarnoja et al. 2018, "SAC: Algorithms and Applications", Algorithm 1),
written from its equations.

Maximum-entropy objective: J(pi) = sum_t E[ r_t + alpha H(pi(.|s_t)) ].

Policy: a squashed Gaussian. u ~ N(mu(s), sigma(s)^2), a = tanh(u) in (-1, 1)^d (the
environment gets a rescaled to its bounds). By the change of variables (paper, Appendix C):

    log pi(a|s) = log N(u; mu, sigma) - sum_i log(1 - tanh(u_i)^2)
    with log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u))        (stable for large |u|)

Critics: two Q networks and their slow copies (targets). For a batch (s, a, r, s', d):

    a' ~ pi(.|s'),  y = r + gamma (1 - d) [ min_j Q_targ_j(s', a') - alpha log pi(a'|s') ]
    L_Q    = sum_j 1/2 E (Q_j(s, a) - y)^2                     twin Q: the min curbs over-estimation
    L_pi   = E_s [ alpha log pi(a~|s) - min_j Q_j(s, a~) ],  a~ ~ pi(.|s) reparameterised
    L_alpha = -E [ log alpha (log pi(a~|s) + H_target) ],      H_target = -dim(A)    (automatic temperature)
    theta_targ <- tau theta + (1 - tau) theta_targ                                    (Polyak averaging)

The order of one gradient step follows Stable-Baselines3's SAC.train (temperature, critics,
actor, targets), so the two implementations can be compared step for step: same default
hyper-parameters (rl-zoo's Pendulum-v1 settings in the parameters file).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.rl.networks import mlp

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0  # SB3's clamp of log sigma


def tanh_log_det(u: torch.Tensor) -> torch.Tensor:
    """sum_i log(1 - tanh(u_i)^2), computed as 2 (log 2 - u - softplus(-2u))."""
    return (2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))).sum(dim=-1)


def squashed_log_prob(u: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """log pi(tanh(u)|s) of the squashed Gaussian: the Gaussian's log density minus the log
    Jacobian of tanh."""
    gaussian = (-0.5 * ((u - mean) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(dim=-1)
    return gaussian - tanh_log_det(u)


class Actor(nn.Module):
    """s -> (mu, log sigma); ``forward`` is the deterministic action tanh(mu) in env units."""

    def __init__(self, observation_size: int, action_size: int, hidden: list[int], action_scale: np.ndarray,
                 action_bias: np.ndarray):
        super().__init__()
        self.body = mlp([observation_size, *hidden, 2 * action_size])
        self.register_buffer("action_scale", torch.as_tensor(action_scale, dtype=torch.float32))
        self.register_buffer("action_bias", torch.as_tensor(action_bias, dtype=torch.float32))

    def distribution(self, observations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = self.body(observations).chunk(2, dim=-1)
        return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)

    def sample(self, observations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """a in (-1, 1)^d by the reparameterisation u = mu + sigma eps, and log pi(a|s)."""
        mean, log_std = self.distribution(observations)
        u = mean + log_std.exp() * torch.randn_like(mean)
        return torch.tanh(u), squashed_log_prob(u, mean, log_std)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        mean, _ = self.distribution(observations)
        return torch.tanh(mean) * self.action_scale + self.action_bias


class Critic(nn.Module):
    """Q(s, a) for a in (-1, 1)^d."""

    def __init__(self, observation_size: int, action_size: int, hidden: list[int]):
        super().__init__()
        self.net = mlp([observation_size + action_size, *hidden, 1])

    def forward(self, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([observations, actions], dim=-1)).squeeze(-1)


class ReplayBuffer:
    """A ring of the last ``capacity`` transitions with continuous actions, sampled uniformly
    (``rl.replay.ReplayBuffer`` holds discrete actions for DQN)."""

    def __init__(self, capacity: int, observation_size: int, action_size: int):
        self.obs = np.zeros((capacity, observation_size), dtype=np.float32)
        self.next_obs = np.zeros((capacity, observation_size), dtype=np.float32)
        self.actions = np.zeros((capacity, action_size), dtype=np.float32)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.size, self.cursor, self.capacity = 0, 0, capacity

    def add(self, obs, action, reward, next_obs, terminated) -> None:
        i = self.cursor
        self.obs[i], self.actions[i], self.rewards[i], self.next_obs[i], self.terminated[i] = (
            obs, action, reward, next_obs, terminated)
        self.cursor = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
        index = rng.integers(0, self.size, batch_size)
        return tuple(torch.from_numpy(x[index]) for x in (self.obs, self.actions, self.rewards, self.next_obs,
                                                          self.terminated))


@dataclass
class SAC:
    """One agent: networks, optimisers, temperature, replay buffer, and its environment."""

    env_id: str
    settings: dict[str, Any]
    seed: int
    env: Any = None
    actor: Actor = field(init=False)
    critics: nn.ModuleList = field(init=False)
    targets: nn.ModuleList = field(init=False)
    log_alpha: torch.Tensor = field(init=False)
    episode_returns: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        from dl_roadmap.rl.envs import make_env

        s = self.settings
        torch.manual_seed(self.seed)
        self.env = make_env(self.env_id)
        space = self.env.action_space
        obs_size, act_size = self.env.observation_space.shape[0], space.shape[0]
        scale, bias = (space.high - space.low) / 2.0, (space.high + space.low) / 2.0
        self.actor = Actor(obs_size, act_size, s["hidden"], scale, bias)
        self.critics = nn.ModuleList([Critic(obs_size, act_size, s["hidden"]) for _ in range(2)])
        self.targets = copy.deepcopy(self.critics).requires_grad_(False)
        self.log_alpha = torch.tensor([math.log(s["initial_alpha"])], requires_grad=True)
        self.target_entropy = -float(act_size)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=s["lr"])
        self.critic_optimizer = torch.optim.Adam(self.critics.parameters(), lr=s["lr"])
        self.alpha_optimizer = torch.optim.Adam([self.log_alpha], lr=s["lr"])
        self.buffer = ReplayBuffer(int(s["buffer_size"]), obs_size, act_size)
        self.rng = np.random.default_rng(self.seed)
        self.env.action_space.seed(self.seed)
        self.obs, _ = self.env.reset(seed=self.seed)
        self.steps, self.episode_return = 0, 0.0
        self.scale, self.bias = scale.astype(np.float32), bias.astype(np.float32)

    # run_loop's checkpoint: the networks, optimisers and counters (not the buffer or env state)
    def state_dict(self) -> dict[str, Any]:
        return {"actor": self.actor.state_dict(), "critics": self.critics.state_dict(),
                "targets": self.targets.state_dict(), "log_alpha": self.log_alpha.detach().clone(),
                "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.actor.load_state_dict(state["actor"])
        self.critics.load_state_dict(state["critics"])
        self.targets.load_state_dict(state["targets"])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.steps = state["steps"]

    def act_for_env(self, observation: np.ndarray) -> np.ndarray:
        """The deterministic action tanh(mu) in env units (evaluation)."""
        with torch.no_grad():
            return self.actor(torch.as_tensor(observation, dtype=torch.float32)[None])[0].numpy()

    def step(self) -> dict[str, float]:
        """One environment step (uniform random before ``learning_starts``) and, after it,
        ``gradient_steps`` updates."""
        s = self.settings
        if self.steps < s["learning_starts"]:
            squashed = self.rng.uniform(-1.0, 1.0, self.scale.shape).astype(np.float32)
        else:
            with torch.no_grad():
                squashed = self.actor.sample(torch.as_tensor(self.obs, dtype=torch.float32)[None])[0][0].numpy()
        next_obs, reward, terminated, truncated, _ = self.env.step(squashed * self.scale + self.bias)
        self.buffer.add(self.obs, squashed, reward, next_obs, float(terminated))  # truncation is not an end
        self.episode_return += float(reward)
        self.obs = next_obs
        if terminated or truncated:
            self.episode_returns.append(self.episode_return)
            self.episode_return = 0.0
            self.obs, _ = self.env.reset()
        self.steps += 1
        metrics: dict[str, float] = {}
        if self.steps >= s["learning_starts"]:
            for _ in range(int(s["gradient_steps"])):
                metrics = self.update()
        return metrics

    def update(self) -> dict[str, float]:
        s = self.settings
        obs, actions, rewards, next_obs, terminated = self.buffer.sample(int(s["batch_size"]), self.rng)
        # temperature: push the policy's entropy towards H_target
        new_actions, log_prob = self.actor.sample(obs)
        alpha_loss = -(self.log_alpha * (log_prob + self.target_entropy).detach()).mean()
        self.alpha_optimizer.zero_grad()
        alpha_loss.backward()
        self.alpha_optimizer.step()
        alpha = self.log_alpha.detach().exp()
        # critics: soft Bellman target from the target networks and a fresh a' ~ pi(.|s')
        with torch.no_grad():
            next_actions, next_log_prob = self.actor.sample(next_obs)
            next_q = torch.min(*(target(next_obs, next_actions) for target in self.targets))
            y = rewards + s["gamma"] * (1.0 - terminated) * (next_q - alpha * next_log_prob)
        critic_loss = 0.5 * sum(F.mse_loss(critic(obs, actions), y) for critic in self.critics)
        self.critic_optimizer.zero_grad()
        critic_loss.backward()
        self.critic_optimizer.step()
        # actor: maximise min_j Q_j(s, a~) + alpha H, through the reparameterised a~
        q_new = torch.min(*(critic(obs, new_actions) for critic in self.critics))
        actor_loss = (alpha * log_prob - q_new).mean()
        self.actor_optimizer.zero_grad()
        actor_loss.backward()
        self.actor_optimizer.step()
        # targets: Polyak averaging
        with torch.no_grad():
            for target, source in zip(self.targets.parameters(), self.critics.parameters()):
                target.mul_(1.0 - s["tau"]).add_(source, alpha=s["tau"])
        return {"critic_loss": critic_loss.item(), "actor_loss": actor_loss.item(), "alpha": alpha.item()}
