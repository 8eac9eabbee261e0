"""deep_rl_mujoco: PPO with a Gaussian policy on MuJoCo's InvertedPendulum-v5."""

from dl_roadmap.pipelines.deep_rl_mujoco.pipeline import create_pipeline

__all__ = ["create_pipeline"]
