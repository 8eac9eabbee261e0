"""Schema of the `few_shot_zero_shot` parameter block (conf/base/parameters_few_shot_zero_shot.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import DataParams


class AttributeTable(Block):
    names: list[str] = Field(min_length=1)
    classes: dict[str, list[str]] = Field(min_length=2)   # class name -> the attributes it has


class ModelParams(Block):
    """``DualEncoder`` arguments (models.py)."""

    dim: PositiveInt = 64
    channels: list[PositiveInt] = Field(default=[32, 64], min_length=1)
    hidden: NonNegativeInt = 128
    attribute_hidden: PositiveInt = 64
    temperature: PositiveFloat = 10.0


class TrainConfig(Block):
    model: ModelParams
    fit: FitParams


class EvaluationParams(Block):
    curve_points: int = Field(default=201, ge=3)


class AreaParameters(Block):
    data: DataParams
    unseen: list[int] = Field(min_length=1)
    attributes: AttributeTable
    train: TrainConfig
    evaluation: EvaluationParams
    explain: ExplainParams

    @field_validator("unseen")
    @classmethod
    def _classes(cls, unseen: list[int]) -> list[int]:
        if len(set(unseen)) != len(unseen) or not all(0 <= c <= 9 for c in unseen) or len(unseen) > 8:
            raise ValueError("distinct Fashion-MNIST labels 0..9, leaving at least two seen classes")
        return unseen


PARAMETERS = AreaParameters
