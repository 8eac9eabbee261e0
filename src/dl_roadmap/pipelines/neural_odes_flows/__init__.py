"""neural_odes_flows: a continuous normalizing flow (FFJORD-style, Hutchinson trace) on 2-D densities."""

from dl_roadmap.pipelines.neural_odes_flows.pipeline import create_pipeline

__all__ = ["create_pipeline"]
