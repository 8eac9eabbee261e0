"""Schema of the `spiking_conversion` parameter block
(conf/base/parameters_spiking_conversion.yml), checked before a run starts (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import DataParams


class MlpParams(Block):
    """``BiasFreeMLP`` arguments (conversion.py)."""

    hidden: list[PositiveInt] = Field(min_length=1)
    dropout: float = Field(default=0.0, ge=0, lt=1)


class AnnConfig(Block):
    model: MlpParams
    fit: FitParams
    threads: PositiveInt | None = None


class Variant(Block):
    normalisation: Literal["none", "max"] | float = "max"   # a number: that percentile of the activations
    reset: Literal["zero", "subtract"] = "zero"


class ConvertParams(Block):
    norm_images: PositiveInt           # training images whose activations set the layer scales
    steps: PositiveInt                 # simulate T = 1 .. steps
    report_steps: list[PositiveInt] = Field(min_length=1)
    seed: NonNegativeInt = 0
    variants: dict[str, Variant] = Field(min_length=1)


class AreaParameters(Block):
    data: DataParams
    ann: AnnConfig
    convert: ConvertParams


PARAMETERS = AreaParameters
