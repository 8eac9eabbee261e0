"""spiking_neuromorphic: event-camera input from moving MNIST digits, an SNN on events, and its energy estimate."""

from dl_roadmap.pipelines.spiking_neuromorphic.pipeline import create_pipeline

__all__ = ["create_pipeline"]
