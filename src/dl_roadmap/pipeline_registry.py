"""Project pipelines: every folder under pipelines/ with a create_pipeline() is one."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

DEFAULT_PIPELINE = "mnist_autoencoder"


def register_pipelines() -> dict[str, Pipeline]:
    """Discover the pipelines; ``kedro run`` with no name runs mnist_autoencoder.

    ``kedro run --pipeline=X`` makes find_pipelines load X alone, so the default may
    be missing from the mapping: only alias it when it was loaded.
    """
    pipelines = find_pipelines(raise_errors=True)
    if DEFAULT_PIPELINE in pipelines:
        pipelines["__default__"] = pipelines[DEFAULT_PIPELINE]
    return pipelines
