"""Schema of the `efficient_architectures_scaling` parameter block
(conf/base/parameters_efficient_architectures_scaling.yml), checked before a run starts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import DataParams


class BaseModelParams(Block):
    """The EfficientNet that is scaled (image.efficient.build_model, arch efficientnet)."""

    arch: Literal["efficientnet"]
    width: PositiveFloat
    depth: PositiveFloat
    resolution: PositiveInt
    stem_stride: Literal[1, 2] = 1
    dropout: float = Field(default=0.1, ge=0, lt=1)
    stochastic_depth: float = Field(default=0.0, ge=0, lt=1)


class BaseConfig(Block):
    model: BaseModelParams
    fit: FitParams


class SearchParams(Block):
    largest: dict[Literal["depth", "width", "resolution"], float]  # the largest multiplier tried per dimension
    steps: PositiveInt = 31  # multipliers tried for depth and width (resolution: every integer size)

    @model_validator(mode="after")
    def _every_dimension_above_one(self) -> SearchParams:
        missing = sorted({"depth", "width", "resolution"} - set(self.largest))
        if missing:
            raise ValueError(f"largest: a multiplier for {missing}")
        low = {k: v for k, v in self.largest.items() if v <= 1}
        if low:
            raise ValueError(f"largest: multipliers above 1, got {low}")
        return self


class ScalingParams(Block):
    phi: PositiveFloat  # compound coefficient: cost grows about 2^phi
    alpha: float = Field(default=1.2, ge=1)  # depth base
    beta: float = Field(default=1.1, ge=1)  # width base
    gamma: float = Field(default=1.15, ge=1)  # resolution base
    search: SearchParams


class AreaParameters(Block):
    data: DataParams
    base: BaseConfig
    scaling: ScalingParams
    train_threads: PositiveInt | None = None  # torch threads while training (null = the trainer block's)


PARAMETERS = AreaParameters
