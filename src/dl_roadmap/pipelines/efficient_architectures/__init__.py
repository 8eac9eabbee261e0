"""efficient_architectures: one line on the roadmap topic this area teaches."""

from dl_roadmap.pipelines.efficient_architectures.pipeline import create_pipeline

__all__ = ["create_pipeline"]
