"""Shared stages every roadmap area reuses: tune -> compress -> explain.

An area describes itself once with a ``StageTask`` (task.py) and adds each stage to its
pipeline with the stage's factory; the stage's nodes, parameters and outputs live under
the namespace ``<area>.<stage>``. What each stage needs from the task is checked when its
pipeline is built (contract.py): a miswired stage raises ``StageWiringError`` naming the
area and what is missing.
"""

from dl_roadmap.core.stages.contract import StageWiringError
from dl_roadmap.core.stages.task import StageTask

__all__ = ["StageTask", "StageWiringError"]
