"""neural_odes: one line on the roadmap topic this area teaches."""

from dl_roadmap.pipelines.neural_odes.pipeline import create_pipeline

__all__ = ["create_pipeline"]
