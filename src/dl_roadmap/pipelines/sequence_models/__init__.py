"""Sequence models: seq2seq with and without attention, and the Transformer, on date normalisation."""

from dl_roadmap.pipelines.sequence_models.pipeline import create_pipeline

__all__ = ["create_pipeline"]
