"""continual_learning_permuted: catastrophic forgetting on permuted MNIST and the methods against it."""

from dl_roadmap.pipelines.continual_learning_permuted.pipeline import create_pipeline

__all__ = ["create_pipeline"]
