"""The networks the deep-RL algorithms share: an MLP, MinAtar's small convolutional torso,
a Q-network with a plain or dueling head, and PPO's actor-critic (categorical or Gaussian).

Dueling head (Wang et al. 2016): the torso's features feed two streams, a state value
V(s) and advantages A(s, a), recombined with the mean advantage subtracted so that V and A
are identifiable:

    Q(s, a) = V(s) + A(s, a) - (1/|A|) * sum_a' A(s, a')

Actor-critic initialisation follows the PPO implementations it is compared with
(Stable-Baselines3, CleanRL): orthogonal weights with gain sqrt(2) in hidden layers, 0.01
on the policy's output (near-uniform first policy) and 1 on the value output.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn


def mlp(sizes: Sequence[int], activation: type[nn.Module] = nn.ReLU, out_gain: float | None = None) -> nn.Sequential:
    """Linear layers of ``sizes`` with ``activation`` between them (none after the last).
    ``out_gain`` set: orthogonal initialisation (hidden gain sqrt(2), output ``out_gain``)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(n_in, n_out)
        if out_gain is not None:
            last = i == len(sizes) - 2
            nn.init.orthogonal_(linear.weight, out_gain if last else math.sqrt(2))
            nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class MinAtarTorso(nn.Module):
    """Young & Tian (2019)'s network body: one 3x3 convolution with 16 channels (stride 1)
    over the 10x10xC grid, ReLU, flattened. Input (N, 10, 10, C), channels last as MinAtar
    gives them."""

    def __init__(self, in_channels: int, channels: int = 16, side: int = 10):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, channels, kernel_size=3, stride=1)
        self.out_features = channels * (side - 2) ** 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x.permute(0, 3, 1, 2))).flatten(1)


class QNetwork(nn.Module):
    """Q(s, .) for every action: an MLP torso (flat observations) or MinAtar's conv torso
    (``obs_shape`` of three dims), then a plain linear head or a dueling head."""

    def __init__(self, obs_shape: Sequence[int], n_actions: int, hidden: Sequence[int] = (256, 256),
                 dueling: bool = True):
        super().__init__()
        self.observation_shape = tuple(int(s) for s in obs_shape)
        self.n_actions, self.dueling = int(n_actions), bool(dueling)
        if len(self.observation_shape) == 3:
            conv = MinAtarTorso(self.observation_shape[2], side=self.observation_shape[0])
            self.torso: nn.Module = conv
            features = conv.out_features
        else:
            self.torso = nn.Sequential(mlp([math.prod(self.observation_shape), *hidden[:-1]]), nn.ReLU()) \
                if len(hidden) > 1 else nn.Identity()
            features = hidden[-2] if len(hidden) > 1 else math.prod(self.observation_shape)
        last = int(hidden[-1])
        self.advantage = nn.Sequential(nn.Linear(features, last), nn.ReLU(), nn.Linear(last, self.n_actions))
        self.value = nn.Sequential(nn.Linear(features, last), nn.ReLU(), nn.Linear(last, 1)) if dueling else None

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        h = self.torso(obs if obs.dim() > 2 or len(self.observation_shape) == 3 else obs.flatten(1))
        a = self.advantage(h)
        if self.value is None:
            return a
        return self.value(h) + a - a.mean(dim=1, keepdim=True)  # dueling: V + A - mean(A)


class ActorCritic(nn.Module):
    """PPO's two networks side by side (no shared layers, as SB3's MlpPolicy): the policy
    pi(a|s), categorical over ``n_actions`` logits or a diagonal Gaussian with a learned,
    state-independent log standard deviation; and the value V(s)."""

    def __init__(self, obs_dim: int, action_dim: int, discrete: bool, hidden: Sequence[int] = (64, 64),
                 log_std_init: float = 0.0):
        super().__init__()
        self.observation_shape = (int(obs_dim),)
        self.discrete = bool(discrete)
        self.actor = mlp([obs_dim, *hidden, action_dim], nn.Tanh, out_gain=0.01)
        self.critic = mlp([obs_dim, *hidden, 1], nn.Tanh, out_gain=1.0)
        self.log_std = None if discrete else nn.Parameter(torch.full((action_dim,), float(log_std_init)))

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Distribution:
        out = self.actor(obs)
        if self.discrete:
            return torch.distributions.Categorical(logits=out, validate_args=False)
        return torch.distributions.Normal(out, self.log_std.exp().expand_as(out), validate_args=False)

    def log_prob(self, dist: torch.distributions.Distribution, actions: torch.Tensor) -> torch.Tensor:
        """log pi(a|s) per row (a Gaussian's sums over action dimensions)."""
        lp = dist.log_prob(actions)
        return lp if self.discrete else lp.sum(-1)

    def entropy(self, dist: torch.distributions.Distribution) -> torch.Tensor:
        h = dist.entropy()
        return h if self.discrete else h.sum(-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic policy's output: action logits, or the Gaussian's mean."""
        return self.actor(obs)


class Deterministic(nn.Module):
    """Only the acting part of a trained policy (what PolicyModel and the stages need):
    obs -> logits / Q-values (argmax is the action) or the Gaussian mean."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.observation_shape = tuple(getattr(net, "observation_shape", ()))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net.actor(obs) if isinstance(self.net, ActorCritic) else self.net(obs)


def greedy_act(policy: nn.Module, discrete: bool) -> Callable[[Any], Any]:
    """One observation -> the deterministic policy's action (argmax for discrete actions,
    the output itself for continuous ones): the ``act_fn`` of rl/evaluate and rl/video."""

    def act(observation: Any) -> Any:
        with torch.no_grad():
            out = policy(torch.as_tensor(np.asarray(observation, dtype=np.float32))[None])
        return int(out.argmax(1)) if discrete else out[0].numpy()

    return act


def pyfunc_returns(policy: nn.Module, env_id: str, episodes: int, seed: int, discrete: bool,
                   action_low: Any = None, action_high: Any = None) -> np.ndarray:
    """``policy`` saved as an MLflow pyfunc model (rl.policy_model.PolicyModel), loaded back
    with ``mlflow.pyfunc.load_model`` and played in a plain Gymnasium loop: the return of each
    of ``episodes`` episodes starting from ``reset(seed + i)``. What a user of the logged
    model gets, checked end to end."""
    import tempfile
    from pathlib import Path

    import gymnasium as gym
    import mlflow.pyfunc

    from dl_roadmap.rl.policy_model import PolicyModel

    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "policy")
        mlflow.pyfunc.save_model(path, python_model=PolicyModel(policy, discrete, action_low=action_low,
                                                                  action_high=action_high),
                                 pip_requirements=["torch==2.13.0", "numpy", "pandas"])
        model = mlflow.pyfunc.load_model(path)
        env, returns = gym.make(env_id), []
        try:
            for episode in range(int(episodes)):
                obs, _ = env.reset(seed=int(seed) + episode)
                total, done = 0.0, False
                while not done:
                    action = model.predict(np.asarray(obs, dtype=np.float32).reshape(1, -1))[0]
                    obs, reward, terminated, truncated, _ = env.step(int(action) if discrete else action)
                    total, done = total + float(reward), terminated or truncated
                returns.append(total)
        finally:
            env.close()
    return np.asarray(returns)
