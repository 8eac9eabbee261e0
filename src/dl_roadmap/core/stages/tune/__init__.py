"""The tune stage: Optuna search over an area's config, then the final model."""

from dl_roadmap.core.stages.tune.pipeline import tune_pipeline

__all__ = ["tune_pipeline"]
