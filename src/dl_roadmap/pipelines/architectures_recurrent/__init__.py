"""architectures_recurrent: one line on the roadmap topic this area teaches."""

from dl_roadmap.pipelines.architectures_recurrent.pipeline import create_pipeline

__all__ = ["create_pipeline"]
