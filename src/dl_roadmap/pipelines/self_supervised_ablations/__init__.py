"""self_supervised_ablations: SimCLR's ingredients measured: batch size (negatives), temperature, projection head."""

from dl_roadmap.pipelines.self_supervised_ablations.pipeline import create_pipeline

__all__ = ["create_pipeline"]
