"""The explain stage: SHAP and LIME attribution maps of a trained classifier's test
predictions, with deletion curves that check the maps are faithful to the model."""

from dl_roadmap.core.stages.explain.pipeline import explain_pipeline

__all__ = ["explain_pipeline"]
