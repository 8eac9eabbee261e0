"""architectures: the CNN family on Fashion-MNIST (LeNet-5 as published, a small modern CNN)."""

from dl_roadmap.pipelines.architectures.pipeline import create_pipeline

__all__ = ["create_pipeline"]
