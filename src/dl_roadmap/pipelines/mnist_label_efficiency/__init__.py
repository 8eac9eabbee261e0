"""Label efficiency of the MNIST autoencoder: pretrained vs from-scratch encoders."""

from dl_roadmap.pipelines.mnist_label_efficiency.pipeline import create_pipeline

__all__ = ["create_pipeline"]
