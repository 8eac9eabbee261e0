"""Project pipelines: every folder under pipelines/ with a create_pipeline() is one."""

from __future__ import annotations

import importlib

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

DEFAULT_PIPELINE = "mnist_autoencoder"

# Pipelines whose inputs another pipeline makes: name -> the pipelines run before it, in the
# same run. Areas never import each other; the registry is where they are put together.
RUNS_FIRST: dict[str, tuple[str, ...]] = {"parakeet_finetune": ("parakeet_base",)}


def register_pipelines() -> dict[str, Pipeline]:
    """Discover the pipelines; ``kedro run`` with no name runs mnist_autoencoder.

    ``kedro run --pipeline=X`` makes find_pipelines load X alone, so the default may
    be missing from the mapping: only alias it when it was loaded. For the same reason a
    pipeline that runs first is loaded from its folder when find_pipelines left it out.
    """
    pipelines = find_pipelines(raise_errors=True)
    found = dict(pipelines)
    for name, first in RUNS_FIRST.items():
        if name in found:
            pipelines[name] = sum((_area(area, found) for area in first), Pipeline([])) + found[name]
    if DEFAULT_PIPELINE in pipelines:
        pipelines["__default__"] = pipelines[DEFAULT_PIPELINE]
    return pipelines


def _area(name: str, found: dict[str, Pipeline]) -> Pipeline:
    """An area's own pipeline: as find_pipelines made it, or from its folder."""
    if name in found:
        return found[name]
    return importlib.import_module(f"dl_roadmap.pipelines.{name}").create_pipeline()
