"""few_shot_maml: MAML, second-order through torch.func and first-order, on Omniglot."""

from dl_roadmap.pipelines.few_shot_maml.pipeline import create_pipeline

__all__ = ["create_pipeline"]
