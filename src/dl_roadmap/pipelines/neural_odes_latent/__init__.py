"""neural_odes_latent: a latent ODE on irregularly sampled spirals against a time-gap RNN."""

from dl_roadmap.pipelines.neural_odes_latent.pipeline import create_pipeline

__all__ = ["create_pipeline"]
