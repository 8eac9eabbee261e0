"""self_supervised_label_efficiency: each pretrained encoder fine-tuned with 10 to all labels per class, against scratch."""

from dl_roadmap.pipelines.self_supervised_label_efficiency.pipeline import create_pipeline

__all__ = ["create_pipeline"]
