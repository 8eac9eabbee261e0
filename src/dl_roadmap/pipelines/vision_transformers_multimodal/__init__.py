"""vision_transformers_multimodal: one line on the roadmap topic this area teaches."""

from dl_roadmap.pipelines.vision_transformers_multimodal.pipeline import create_pipeline

__all__ = ["create_pipeline"]
