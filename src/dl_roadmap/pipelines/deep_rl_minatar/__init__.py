"""deep_rl_minatar: DQN playing MinAtar Breakout from its 10x10x4 grids."""

from dl_roadmap.pipelines.deep_rl_minatar.pipeline import create_pipeline

__all__ = ["create_pipeline"]
