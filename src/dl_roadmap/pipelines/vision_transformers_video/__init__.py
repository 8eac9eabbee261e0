"""vision_transformers_video: one line on the roadmap topic this area teaches."""

from dl_roadmap.pipelines.vision_transformers_video.pipeline import create_pipeline

__all__ = ["create_pipeline"]
