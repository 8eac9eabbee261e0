"""Schema of an area's ``compress`` block (checked before a run starts; see core/schema.py).

Blocks and defaults are documented in nodes.py. Fit overrides are partial ``fit`` blocks,
deep-merged over the area's own, so only their keys are checked here (against
``core.training.fit``'s). ``check_compress_budgets`` checks the merged results against
``FitParams``, and the distillation student's config against the area's config schema,
for an area that passes its config's schema and block::

    @field_validator("compress")
    @classmethod
    def _budgets(cls, compress, info):
        return check_compress_budgets(Classifier, info.data.get("classifier"), compress)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, NonNegativeInt, PlainValidator, PositiveFloat, PositiveInt, ValidationInfo
from pydantic import field_validator

from dl_roadmap.core.params import deep_merge, with_overrides
from dl_roadmap.core.schema import Block, schema_problems
from dl_roadmap.core.stages.compress.settings import EXAMPLE, check_fit
from dl_roadmap.core.training import FitParams


class _WithFit(Block):
    fit: dict[str, Any] | None = None  # fit overrides over finetune (or the area's fit)

    @field_validator("fit")
    @classmethod
    def _fit_keys(cls, overrides: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_fit("fit", overrides)


class CalibrationParams(Block):
    size: PositiveInt = 1024
    batch_size: PositiveInt = 128
    weights: Literal["per_channel", "per_tensor"] = "per_channel"  # static int8 weight scales


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


def _size_or_example(value: Any) -> Any:
    # One check for a count or a word: a union would report each member's failure.
    if value == EXAMPLE or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise ValueError(f"a positive batch size, or {EXAMPLE!r} (the task's example inputs as given), got {value!r}")


class LatencyParams(Block):
    # "example": the task's example inputs as given (a graph model's one node matrix...)
    batch_sizes: list[Annotated[Any, PlainValidator(_size_or_example)]] = Field(default=[1, 256], min_length=1)
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


def compress_budget_problems(schema: type[BaseModel], config: BaseModel | dict[str, Any],
                             compress: CompressParams, where: str = "compress") -> list[str]:
    """Problems of the fit budgets the compress stage trains with (``config["fit"]``, then
    ``finetune``, then a block's ``fit``, deep-merged) and of the distillation student's
    config (``config`` with ``student`` applied, against ``schema``)."""
    if isinstance(config, BaseModel):
        config = config.model_dump(exclude_unset=True)
    own_fit = config.get("fit") or {}
    finetuned = deep_merge(own_fit, compress.finetune or {})
    problems = schema_problems(FitParams, finetuned, f"{where}.finetune")
    if not problems:  # each block's fit is over finetune: fix that first
        for block in ("qat", "unstructured_pruning", "structured_pruning"):
            params = getattr(compress, block)
            if params is not None and params.fit:
                problems += schema_problems(FitParams, deep_merge(finetuned, params.fit), f"{where}.{block}.fit")
    distillation = compress.distillation
    if distillation is not None:
        try:
            student = with_overrides(config, distillation.student)
        except KeyError as error:  # a path through a value that is not a mapping
            return [*problems, f"{where}.distillation.student: {error.args[0]}"]
        problems += schema_problems(schema, student, f"{where}.distillation.student")
        student_fit = deep_merge(student.get("fit") or {}, distillation.fit or {})
        if isinstance(student_fit.get("optimizer"), dict):
            student_fit["optimizer"].pop("lr_scale", None)  # the stage drops it for a fresh student
        problems += schema_problems(FitParams, student_fit, f"{where}.distillation.fit")
    return problems


def check_compress_budgets(schema: type[BaseModel], config: BaseModel | None,
                           compress: CompressParams) -> CompressParams:
    """``compress`` as is, or a ValueError listing ``compress_budget_problems``; ``config``
    None (it failed its own schema) checks nothing."""
    if config is not None:
        problems = compress_budget_problems(schema, config, compress)
        if problems:
            raise ValueError("the compress stage's trainings would fail:\n    " + "\n    ".join(problems))
    return compress


def variants_train(config_field: str, config_schema: type[BaseModel]) -> Any:
    """A validator of an area block's ``compress`` field: the variants' training configs (the
    block's ``config_field`` under each budget, and the student) pass ``config_schema``."""

    def check(cls: type, compress: CompressParams, info: ValidationInfo) -> CompressParams:
        return check_compress_budgets(config_schema, info.data.get(config_field), compress)

    return field_validator("compress")(classmethod(check))
