"""few_shot_zero_shot: a dual encoder of images and attribute descriptions, generalized zero-shot on Fashion-MNIST."""

from dl_roadmap.pipelines.few_shot_zero_shot.pipeline import create_pipeline

__all__ = ["create_pipeline"]
