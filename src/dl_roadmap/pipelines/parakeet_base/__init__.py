"""parakeet_base: the offline starting point of parakeet_finetune (demo corpus + small base)."""

from dl_roadmap.pipelines.parakeet_base.pipeline import create_pipeline

__all__ = ["create_pipeline"]
