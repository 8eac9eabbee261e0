"""A character-level GPT on Shakespeare: nanoGPT's CPU recipe, KV-cache sampling, temperature and top-k."""

from dl_roadmap.pipelines.sequence_models_gpt.pipeline import create_pipeline

__all__ = ["create_pipeline"]
