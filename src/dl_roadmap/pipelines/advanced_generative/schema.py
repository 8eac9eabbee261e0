"""Schema of the `advanced_generative` parameter block (conf/base/parameters_advanced_generative.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt

from dl_roadmap.core.loop import LoopParams
from dl_roadmap.core.optim import OptimizerParams, SchedulerParams
from dl_roadmap.core.schema import Block
from dl_roadmap.image.schema import DataParams


class RealNVPModel(Block):
    """``flows.realnvp`` arguments."""

    hidden: PositiveInt
    scales: int = Field(ge=1, le=2)       # 28 -> 14: two squeezes would need 7 to be even
    couplings: int = Field(ge=1)


class GlowModel(Block):
    """``flows.glow`` arguments."""

    hidden: PositiveInt
    levels: int = Field(ge=1, le=2)
    steps: int = Field(ge=1)
    lu: bool = True


class _FlowTraining(Block):
    alpha: float = Field(gt=0, lt=0.5)
    batch_size: PositiveInt
    grad_clip: PositiveFloat
    val_images: PositiveInt
    optimizer: OptimizerParams
    scheduler: SchedulerParams | None = None
    loop: LoopParams


class RealNVPParams(_FlowTraining):
    model: RealNVPModel


class GlowParams(_FlowTraining):
    model: GlowModel


class EvaluationParams(Block):
    seed: int = 0
    test_images: PositiveInt               # the first N test images


class YardstickSampling(Block):
    samples: PositiveInt
    seed: int = 0
    temperatures: list[PositiveFloat] = Field(min_length=1)


class ToyPlot(Block):
    limit: PositiveFloat
    points: int = Field(ge=10)
    samples: PositiveInt


class ToyParams(Block):
    densities: list[Literal["two_moons", "checkerboard"]] = Field(min_length=1)
    hidden: PositiveInt
    couplings: PositiveInt
    batch_size: PositiveInt
    seed: int = 0
    test_points: PositiveInt
    optimizer: OptimizerParams
    scheduler: SchedulerParams | None = None
    loop: LoopParams
    plot: ToyPlot


class AreaParameters(Block):
    data: DataParams
    realnvp: RealNVPParams
    glow: GlowParams
    evaluation: EvaluationParams
    yardstick: YardstickSampling
    mlflow_temperature: PositiveFloat = 1.0
    toy: ToyParams


PARAMETERS = AreaParameters
