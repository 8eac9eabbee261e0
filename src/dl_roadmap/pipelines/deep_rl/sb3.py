"""Stable-Baselines3 with the RL Zoo's tuned CartPole-v1 settings, measured exactly as our
agents are: a greedy evaluation every ``evaluation.every_steps`` env steps on the same
seeded episodes, and the seconds spent training (evaluations left out).

The settings are rl-baselines3-zoo's hyperparams/dqn.yml (commit ce95481) and
hyperparams/ppo.yml (commit 208b6fd), CartPole-v1 entries; ``lin_x`` there is a linear
schedule from x to 0, written here as SB3's ``get_linear_fn``-style callable.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import pandas as pd


def zoo_kwargs(algo: str, params: dict[str, Any]) -> dict[str, Any]:
    """The zoo's keyword arguments for ``DQN``/``PPO`` (schedules made callables)."""
    kwargs = {k: v for k, v in params.items() if k not in ("total_steps", "n_envs", "net_arch")}
    if algo == "ppo":
        lr, clip = float(kwargs.pop("learning_rate")), float(kwargs.pop("clip_range"))
        kwargs["learning_rate"] = lambda progress_left: progress_left * lr   # lin_0.001
        kwargs["clip_range"] = lambda progress_left: progress_left * clip    # lin_0.2
    if "net_arch" in params:
        kwargs["policy_kwargs"] = {"net_arch": list(params["net_arch"])}
    return kwargs


def train_sb3(algo: str, env_id: str, params: dict[str, Any], seed: int,
              evaluate: Callable[[Callable[[Any], Any]], float], every_steps: int) -> pd.DataFrame:
    """Train SB3's ``algo`` (dqn | ppo) for ``params["total_steps"]`` steps.

    Returns:
        One row per evaluation: env_steps, eval_return, train_seconds (wall time of
        ``learn`` minus the evaluations).
    """
    import torch
    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    rows: list[dict[str, float]] = []

    class EvaluateEvery(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.next_at, self.eval_seconds, self.started = every_steps, 0.0, time.perf_counter()

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_at:
                self.next_at += every_steps
                t0 = time.perf_counter()
                policy = self.model.policy

                def act(obs: Any) -> int:
                    with torch.no_grad():
                        action, _ = policy.predict(np.asarray(obs, dtype=np.float32), deterministic=True)
                    return int(action)

                value = float(evaluate(act))
                self.eval_seconds += time.perf_counter() - t0
                rows.append({"env_steps": float(self.num_timesteps), "eval_return": value,
                             "train_seconds": time.perf_counter() - self.started - self.eval_seconds})
            return True

    n_envs = int(params.get("n_envs", 1))
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    cls = {"dqn": DQN, "ppo": PPO}[algo]
    model = cls("MlpPolicy", env, seed=seed, verbose=0, device="cpu", **zoo_kwargs(algo, params))
    model.learn(total_timesteps=int(params["total_steps"]), callback=EvaluateEvery())
    env.close()
    return pd.DataFrame(rows)
