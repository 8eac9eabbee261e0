"""Experience replay: a fixed-size ring of transitions, sampled uniformly.

DQN learns from (s, a, r, s', done) tuples drawn at random from the last ``capacity``
steps instead of the step just taken (Mnih et al. 2015): consecutive steps are strongly
correlated, and a uniform draw over a large window breaks that correlation and lets each
transition be used many times. ``done`` here means *terminated* (the episode really ended,
so the target does not bootstrap); an episode cut by a time limit stores ``done = 0`` and
its true final observation as ``s'``, so the value behind the cut is still bootstrapped.

Observations are stored in their own dtype (MinAtar's boolean grids as uint8: 400 bytes a
frame instead of 1,600 as float32) and turned into float tensors only when sampled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class ReplayBuffer:
    """Ring buffer of ``capacity`` transitions with observations of ``obs_shape``."""

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], obs_dtype: Any = np.float32, seed: int = 0):
        if int(capacity) < 1:
            raise ValueError(f"ReplayBuffer: capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.obs = np.zeros((self.capacity, *obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros((self.capacity, *obs_shape), dtype=obs_dtype)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.dones = np.zeros(self.capacity, dtype=np.float32)
        self.position = 0  # where the next transition goes
        self.size = 0
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.size

    def add(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray,
            dones: np.ndarray) -> None:
        """Store a batch of transitions (one row per environment), overwriting the oldest."""
        for i in range(len(actions)):
            j = self.position
            self.obs[j], self.next_obs[j] = obs[i], next_obs[i]
            self.actions[j], self.rewards[j], self.dones[j] = actions[i], rewards[i], dones[i]
            self.position = (j + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        """``batch_size`` transitions drawn uniformly (with replacement) from those stored."""
        if self.size == 0:
            raise ValueError("ReplayBuffer: cannot sample from an empty buffer")
        index = self.rng.integers(0, self.size, size=int(batch_size))
        as_float = lambda a: torch.as_tensor(a[index], dtype=torch.float32, device=device)  # noqa: E731
        return {"obs": as_float(self.obs), "next_obs": as_float(self.next_obs),
                "actions": torch.as_tensor(self.actions[index], device=device),
                "rewards": torch.as_tensor(self.rewards[index], device=device),
                "dones": torch.as_tensor(self.dones[index], device=device)}

    def state_dict(self) -> dict[str, Any]:
        return {"obs": self.obs[: self.size].copy(), "next_obs": self.next_obs[: self.size].copy(),
                "actions": self.actions[: self.size].copy(), "rewards": self.rewards[: self.size].copy(),
                "dones": self.dones[: self.size].copy(), "position": self.position, "size": self.size,
                "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        size = int(state["size"])
        for key in ("obs", "next_obs", "actions", "rewards", "dones"):
            getattr(self, key)[:size] = state[key]
        self.position, self.size = int(state["position"]), size
        self.rng.bit_generator.state = state["rng"]
