"""few_shot: one line on the roadmap topic this area teaches."""

from dl_roadmap.pipelines.few_shot.pipeline import create_pipeline

__all__ = ["create_pipeline"]
