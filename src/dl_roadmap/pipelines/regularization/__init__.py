"""Regularization: L1/L2, AdamW, dropout, DropConnect, batch norm, early stopping,
cross-validation, bagging and boosting on a deliberately small MNIST training set."""

from dl_roadmap.pipelines.regularization.pipeline import create_pipeline

__all__ = ["create_pipeline"]
