"""Schema of the `neural_odes` parameter block (conf/base/parameters_neural_odes.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.stages.tune.schema import TuneParams, trials_train
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import DataParams


class ModelParams(Block):
    """``model_from_config`` arguments (models.py)."""

    kind: Literal["odenet", "resnet"]
    channels: PositiveInt = 32
    classes: PositiveInt = 10
    method: Literal["dopri5", "bosh3", "adaptive_heun", "euler", "midpoint", "rk4"] = "dopri5"  # odenet
    tol: float = Field(default=1e-3, gt=0, lt=1)   # odenet, adaptive methods: rtol = atol
    steps: PositiveInt = 4                          # odenet, fixed-step methods
    adjoint: bool = True                            # odenet: adjoint gradient or backprop through the solver
    blocks: PositiveInt = 6                         # resnet


class TrainingConfig(Block):
    """A training config: the model and its fit parameters (core.training.fit)."""

    model: ModelParams
    fit: FitParams


class MemoryParams(Block):
    """memory.py: one ODE block's gradient by backprop and by the adjoint, per number of steps."""

    seed: int = 0
    channels: PositiveInt = 32
    batch: PositiveInt = 32
    steps: list[PositiveInt] = Field(min_length=2)


class DepthParams(Block):
    """depth.py: own Euler and RK4 with N steps against the dopri5 reference."""

    images: PositiveInt = 500
    steps: list[PositiveInt] = Field(min_length=2)


class ParameterCountParams(Block):
    widths: list[PositiveInt] = Field(min_length=1)
    blocks: PositiveInt = 6


class AreaParameters(Block):
    data: DataParams
    models: dict[str, TrainingConfig] = Field(min_length=1)
    parameter_counts: ParameterCountParams
    memory: MemoryParams
    depth: DepthParams
    tuning_train_limit: PositiveInt
    tuning: TrainingConfig  # the tune stage's starting point
    tune: TuneParams
    explain: ExplainParams

    _tune = trials_train("tuning", TrainingConfig)


PARAMETERS = AreaParameters
