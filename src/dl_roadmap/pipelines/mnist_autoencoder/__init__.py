"""Project 1: Zero to Autoencoder for Classification on MNIST."""

from dl_roadmap.pipelines.mnist_autoencoder.pipeline import create_pipeline

__all__ = ["create_pipeline"]
