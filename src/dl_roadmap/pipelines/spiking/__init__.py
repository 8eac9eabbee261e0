"""spiking: LIF neurons from their membrane equation, checked against snntorch, and a convolutional SNN trained through time on MNIST."""

from dl_roadmap.pipelines.spiking.pipeline import create_pipeline

__all__ = ["create_pipeline"]
