"""DQN and PPO draw their initial weights from the run's seed alone, not from whatever used
torch's global generator earlier in the process."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch

from dl_roadmap.rl.dqn import DQNAgent
from dl_roadmap.rl.ppo import PPOAgent


@pytest.mark.parametrize(("agent_class", "config", "network"), [
    (DQNAgent, {"hidden": [8, 8], "buffer_size": 10}, "q"),
    (PPOAgent, {"hidden": [8, 8], "n_envs": 2}, "net"),
])
def test_the_initial_weights_follow_the_seed_alone(agent_class, config, network) -> None:
    def weights() -> list[torch.Tensor]:
        agent = agent_class(lambda: gym.make("CartPole-v1"), config, seed=3)
        agent.envs.close()
        return [p.detach().clone() for p in getattr(agent, network).parameters()]

    first = weights()
    torch.rand(1000)  # whatever ran before in the process
    assert all(torch.equal(a, b) for a, b in zip(first, weights()))
