"""architectures_recurrent: RNN, LSTM and GRU cells from their gate equations, and where they differ."""

from dl_roadmap.pipelines.architectures_recurrent.pipeline import create_pipeline

__all__ = ["create_pipeline"]
