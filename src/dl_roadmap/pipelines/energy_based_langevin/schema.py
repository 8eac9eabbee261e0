"""Schema of the `energy_based_langevin` parameter block
(conf/base/parameters_energy_based_langevin.yml), checked before a run starts: an unknown
key at any depth or a value out of range fails naming the key (core/schema.py)."""

from __future__ import annotations

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.image.schema import DataParams


class ModelParams(Block):
    channels: list[PositiveInt] = Field(min_length=1)  # one strided stage per entry after the first


class SgldParams(Block):
    """Short-run Langevin dynamics of training: x <- x - step_size dE/dx + noise N(0, I)."""

    steps: PositiveInt
    step_size: PositiveFloat
    noise: NonNegativeFloat
    buffer_size: PositiveInt
    reinit: float = Field(ge=0, le=1)  # share of chains restarted from uniform noise per draw


class TrainParams(Block):
    model: ModelParams
    iterations: PositiveInt
    batch_size: PositiveInt
    lr: PositiveFloat
    alpha: NonNegativeFloat  # weight of the maximum-likelihood term E(data) - E(samples)
    energy_penalty: NonNegativeFloat  # lambda of (E(data)^2 + E(samples)^2)
    sgld: SgldParams
    log_every: PositiveInt
    seed: NonNegativeInt = 0
    threads: PositiveInt = 1


class OodParams(Block):
    threads: PositiveInt = 1


class ChainParams(Block):
    """The pictured chains (grid x grid) from uniform noise and their GIF."""

    grid: PositiveInt
    steps: PositiveInt
    step_size: PositiveFloat
    noise: NonNegativeFloat
    frame_every: PositiveInt
    frame_ms: PositiveInt = 120
    seed: NonNegativeInt = 0
    threads: PositiveInt = 1


class GeneratorParams(Block):
    """The sampler scored on the yardstick and logged as the generator model."""

    steps: PositiveInt
    step_size: PositiveFloat
    noise: NonNegativeFloat
    n: PositiveInt
    batch_size: PositiveInt
    seed: NonNegativeInt = 0
    threads: PositiveInt = 1


class AreaParameters(Block):
    data: DataParams
    train: TrainParams
    ood: OodParams
    chain: ChainParams
    generator: GeneratorParams


PARAMETERS = AreaParameters
