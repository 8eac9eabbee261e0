"""Schema of the `advanced_generative_gans` parameter block
(conf/base/parameters_advanced_generative_gans.yml), checked before a run starts: an unknown key
at any depth or a value out of range fails naming the key (core/schema.py)."""

from __future__ import annotations

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from dl_roadmap.core.loop import LoopParams
from dl_roadmap.core.optim import OptimizerParams
from dl_roadmap.core.schema import Block
from dl_roadmap.image.schema import DataParams


class StyleModel(Block):
    """``StyleGenerator`` arguments (stylegan.py)."""

    z_dim: PositiveInt
    w_dim: PositiveInt
    mapping_layers: PositiveInt
    channels: int = Field(ge=2, multiple_of=2)
    w_avg_beta: float = Field(gt=0, lt=1)


class BigModel(Block):
    """``BigGenerator`` arguments (biggan.py)."""

    z_dim: PositiveInt
    classes: int = Field(ge=2)
    embed_dim: PositiveInt
    channels: int = Field(ge=2, multiple_of=2)


class _GANTraining(Block):
    batch_size: PositiveInt
    ema_beta: float = Field(ge=0, lt=1)
    g_optimizer: OptimizerParams
    d_optimizer: OptimizerParams
    loop: LoopParams


class StyleParams(_GANTraining):
    model: StyleModel
    mixing_probability: float = Field(ge=0, le=1)
    r1_gamma: NonNegativeFloat
    r1_every: PositiveInt


class BigParams(_GANTraining):
    model: BigModel
    d_steps: PositiveInt


class YardstickSampling(Block):
    samples: PositiveInt
    seed: int = 0
    psi: list[float] = Field(min_length=1)
    thresholds: list[PositiveFloat | None] = Field(min_length=1)


class PerClass(Block):
    samples: int = Field(ge=2)
    seed: int = 0


class Mixing(Block):
    sources: PositiveInt
    crossover: PositiveInt       # the first layer that takes B's style (1 .. num_styles - 1 = 6)
    psi: float
    seed: int = 0


class MlflowSampling(Block):
    stylegan_psi: float = 1.0
    biggan_threshold: PositiveFloat | None = None


class AreaParameters(Block):
    data: DataParams
    stylegan: StyleParams
    biggan: BigParams
    yardstick: YardstickSampling
    per_class: PerClass
    mixing: Mixing
    mlflow: MlflowSampling

    @model_validator(mode="after")
    def _crossover_inside_the_synthesis(self) -> "AreaParameters":
        if self.mixing.crossover > 6:
            raise ValueError(f"mixing.crossover: the synthesis has 7 styles (6 layers + toRGB), got {self.mixing.crossover}")
        return self


PARAMETERS = AreaParameters
