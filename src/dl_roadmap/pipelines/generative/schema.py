"""Schema of the `generative` parameter block (conf/base/parameters_generative.yml),
checked before a run starts (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.tune.schema import TuneParams
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import DataParams


class VaeModel(Block):
    hidden: list[PositiveInt] = Field(min_length=1)   # encoder widths; the decoder mirrors them
    latent: PositiveInt
    activation: Literal["tanh", "relu", "elu"] = "tanh"
    beta: PositiveFloat = 1.0                          # weight of the KL term while training
    conditional: bool = False


class VaeConfig(Block):
    model: VaeModel
    fit: FitParams


class IwaeParams(Block):
    ks: list[PositiveInt] = Field(min_length=1)        # importance samples per estimate
    images: PositiveInt                                # first N test images for the IWAE bounds


class SweepParams(Block):
    betas: list[PositiveFloat] = Field(min_length=1)
    config: VaeConfig


class InterpolationParams(Block):
    pairs: list[tuple[NonNegativeInt, NonNegativeInt]] = Field(min_length=1)   # test image indices
    steps: int = Field(ge=2)


class YardstickUse(Block):
    samples: PositiveInt                               # samples scored per generator


class AreaParameters(Block):
    data: DataParams
    vae: VaeConfig                  # the tune stage's starting point; its retrained best is the main VAE
    tune: TuneParams
    iwae: IwaeParams
    iwae_conditional: IwaeParams
    interpolation: InterpolationParams
    latent_2d: VaeConfig
    beta_sweep: SweepParams
    cvae: VaeConfig
    samples_per_class: PositiveInt
    yardstick: YardstickUse


PARAMETERS = AreaParameters
