"""deep_rl_sac: soft actor-critic from its equations beside Stable-Baselines3's, on Pendulum-v1."""

from dl_roadmap.pipelines.deep_rl_sac.pipeline import create_pipeline

__all__ = ["create_pipeline"]
