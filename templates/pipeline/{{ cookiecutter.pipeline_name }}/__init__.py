"""{{ cookiecutter.pipeline_name }}: one line on the roadmap topic this area teaches."""

from dl_roadmap.pipelines.{{ cookiecutter.pipeline_name }}.pipeline import create_pipeline

__all__ = ["create_pipeline"]
