"""Seeded evaluation of a deterministic policy: the return of each of ``episodes`` episodes.

Episode ``i`` starts from ``env.reset(seed=seed + i)``, so two policies evaluated with the
same seed meet the same start states (and, in a slippery FrozenLake, the same random
numbers for as long as they take the same actions). The return is the undiscounted sum of
rewards until the episode terminates or is truncated by its time limit.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dl_roadmap.rl.envs import make_env

ActFn = Callable[[Any], Any]  # one observation, as the environment gives it -> one action


def evaluate_policy(env_id: str, act_fn: ActFn, episodes: int, seed: int,
                    env_kwargs: dict[str, Any] | None = None, max_steps: int | None = None) -> np.ndarray:
    """Returns of ``episodes`` seeded episodes of ``act_fn`` in ``env_id`` (float array).

    ``max_steps`` cuts an episode short (for environments without a time limit, such as a
    CliffWalking policy that walks into a wall forever); None trusts the environment's own.
    """
    if int(episodes) < 1:
        raise ValueError(f"evaluate_policy: episodes must be >= 1, got {episodes}")
    env = make_env(env_id, **(env_kwargs or {}))
    returns = np.zeros(int(episodes))
    try:
        env.action_space.seed(int(seed))
        for episode in range(int(episodes)):
            observation, _ = env.reset(seed=int(seed) + episode)
            total, steps, done = 0.0, 0, False
            while not done:
                observation, reward, terminated, truncated, _ = env.step(act_fn(observation))
                total += float(reward)
                steps += 1
                done = terminated or truncated or (max_steps is not None and steps >= max_steps)
            returns[episode] = total
    finally:
        env.close()
    return returns
