"""deep_rl: DQN and PPO from their equations on CartPole-v1, beside Stable-Baselines3 with the RL Zoo settings."""

from dl_roadmap.pipelines.deep_rl.pipeline import create_pipeline

__all__ = ["create_pipeline"]
