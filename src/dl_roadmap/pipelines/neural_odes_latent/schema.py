"""Schema of the `neural_odes_latent` parameter block (conf/base/parameters_neural_odes_latent.yml),
checked before a run starts: an unknown key or a value out of range fails naming the key."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from dl_roadmap.core.loop import LoopParams
from dl_roadmap.core.optim import OptimizerParams, SchedulerParams
from dl_roadmap.core.schema import Block


class SpiralParams(Block):
    """data.py: the spirals and how they are observed."""

    seed: int = 0
    train: PositiveInt = 300
    test: PositiveInt = 100
    grid: int = Field(default=200, ge=4)       # time points over theta in [0, 6 pi]
    window: int = Field(default=100, ge=2)     # grid times a spiral may be observed at
    extrapolate: PositiveInt = 50              # grid times after the window, predicted
    observed: int = Field(default=30, ge=2)    # observations per spiral, at random window times
    noise_std: PositiveFloat = 0.1
    a: float = 0.0
    b: PositiveFloat = 0.3

    @model_validator(mode="after")
    def _fits(self) -> "SpiralParams":
        if self.observed > self.window or self.window + self.extrapolate > self.grid:
            raise ValueError("need observed <= window and window + extrapolate <= grid")
        return self


class LatentModelParams(Block):
    obs_dim: Literal[2] = 2
    latent: PositiveInt = 4
    hidden: PositiveInt = 20
    rnn_hidden: PositiveInt = 25
    method: Literal["dopri5", "bosh3", "adaptive_heun"] = "dopri5"
    tol: float = Field(default=1e-3, gt=0, lt=1)


class RNNModelParams(Block):
    obs_dim: Literal[2] = 2
    hidden: PositiveInt = 32


class LatentTraining(Block):
    model: LatentModelParams
    optimizer: OptimizerParams
    scheduler: SchedulerParams | None = None
    gradient_clip_val: PositiveFloat | None = None
    loop: LoopParams


class RNNTraining(Block):
    model: RNNModelParams
    optimizer: OptimizerParams
    scheduler: SchedulerParams | None = None
    gradient_clip_val: PositiveFloat | None = None
    loop: LoopParams


class AreaParameters(Block):
    spirals: SpiralParams
    latent_ode: LatentTraining
    rnn: RNNTraining


PARAMETERS = AreaParameters
