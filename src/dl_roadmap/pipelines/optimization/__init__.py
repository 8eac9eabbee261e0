"""Optimization: GD, SGD, momentum, RMSprop, Adam(W) from their equations; exploding and
vanishing gradients, gradient clipping; moving averages of the loss and of the weights."""

from dl_roadmap.pipelines.optimization.pipeline import create_pipeline

__all__ = ["create_pipeline"]
