"""parakeet_finetune: fine-tune a Parakeet ASR model (NeMo) on your own audio."""

from dl_roadmap.pipelines.parakeet_finetune.pipeline import create_pipeline

__all__ = ["create_pipeline"]
