"""Hyper-parameter search: grid, random and Bayesian optimization (TPE, GP) on one objective."""

from dl_roadmap.pipelines.hyperparameter_search.pipeline import create_pipeline

__all__ = ["create_pipeline"]
