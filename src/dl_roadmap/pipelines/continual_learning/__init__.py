"""continual_learning: catastrophic forgetting on split MNIST and the methods against it."""

from dl_roadmap.pipelines.continual_learning.pipeline import create_pipeline

__all__ = ["create_pipeline"]
