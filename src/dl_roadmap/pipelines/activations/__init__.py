"""Advanced activation functions: ReLU, Leaky ReLU, ELU, SELU against sigmoid and tanh."""

from dl_roadmap.pipelines.activations.pipeline import create_pipeline

__all__ = ["create_pipeline"]
