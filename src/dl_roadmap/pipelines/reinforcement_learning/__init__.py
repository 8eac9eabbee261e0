"""reinforcement_learning: dynamic programming, tabular TD control and policy gradients."""

from dl_roadmap.pipelines.reinforcement_learning.pipeline import create_pipeline

__all__ = ["create_pipeline"]
