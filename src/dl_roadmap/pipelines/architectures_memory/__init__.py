"""architectures_memory: long memory in RNN, LSTM and GRU, measured on the adding problem."""

from dl_roadmap.pipelines.architectures_memory.pipeline import create_pipeline

__all__ = ["create_pipeline"]
