"""spiking_coding: rate and latency coding of MNIST and Fashion-MNIST, and a fully connected SNN on each."""

from dl_roadmap.pipelines.spiking_coding.pipeline import create_pipeline

__all__ = ["create_pipeline"]
