"""Schema of an area's ``compress`` block (checked before a run starts; see core/schema.py).

Blocks and defaults are documented in nodes.py. Fit overrides are partial ``fit`` blocks,
deep-merged over the area's own, so only their keys are checked here (against
``core.training.fit``'s); the merged result is checked when it trains.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.compress.settings import check_fit


class _WithFit(Block):
    fit: dict[str, Any] | None = None  # fit overrides over finetune (or the area's fit)

    @field_validator("fit")
    @classmethod
    def _fit_keys(cls, overrides: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_fit("fit", overrides)


class CalibrationParams(Block):
    size: PositiveInt = 1024
    batch_size: PositiveInt = 128


class QatParams(_WithFit):
    pass


class UnstructuredParams(_WithFit):
    amount: float = Field(default=0.5, gt=0, lt=1)


class StructuredParams(_WithFit):
    ratio: float = Field(default=0.5, gt=0, lt=1)


class DistillationParams(_WithFit):
    student: dict[str, Any] = {}  # dotted config path -> value
    temperature: PositiveFloat = 4.0
    alpha: float = Field(default=0.5, ge=0, le=1)


class LatencyParams(Block):
    # "example": the task's example inputs as given (a graph model's one node matrix...)
    batch_sizes: list[PositiveInt | Literal["example"]] = Field(default=[1, 256], min_length=1)
    repeats: PositiveInt = 30
    warmup: NonNegativeInt = 5
    threads: PositiveInt = 1


class CompressParams(Block):
    """``<area>.compress``: each block the chosen variants read."""

    finetune: dict[str, Any] | None = None
    calibration: CalibrationParams | None = None
    qat: QatParams | None = None
    unstructured_pruning: UnstructuredParams | None = None
    structured_pruning: StructuredParams | None = None
    distillation: DistillationParams | None = None
    latency: LatencyParams | None = None

    @field_validator("finetune")
    @classmethod
    def _finetune_keys(cls, overrides: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_fit("finetune", overrides)
