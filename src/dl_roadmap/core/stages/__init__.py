"""Shared stages every roadmap area reuses: tune -> compress -> explain.

An area describes itself once with a ``StageTask`` (task.py) and adds each stage to its
pipeline with the stage's factory; the stage's nodes, parameters and outputs live under
the namespace ``<area>.<stage>``.
"""

from dl_roadmap.core.stages.task import StageTask

__all__ = ["StageTask"]
