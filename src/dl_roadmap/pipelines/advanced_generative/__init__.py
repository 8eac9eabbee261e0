"""advanced_generative: discrete normalizing flows (RealNVP, Glow) on MNIST and 2-D densities."""

from dl_roadmap.pipelines.advanced_generative.pipeline import create_pipeline

__all__ = ["create_pipeline"]
