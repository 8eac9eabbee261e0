"""Schema of the `neural_odes_flows` parameter block (conf/base/parameters_neural_odes_flows.yml),
checked before a run starts: an unknown key or a value out of range fails naming the key."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt, model_validator

from dl_roadmap.core.loop import LoopParams
from dl_roadmap.core.optim import OptimizerParams, SchedulerParams
from dl_roadmap.core.schema import Block

DensityName = Literal["two_moons", "rings"]


class FlowModelParams(Block):
    """``CNFDynamics`` arguments (cnf.py)."""

    dim: Literal[2] = 2
    hidden: PositiveInt = 64
    layers: int = Field(default=3, ge=1)


class SolverParams(Block):
    """``log_density`` solver while training."""

    method: Literal["dopri5", "rk4", "euler", "midpoint"] = "rk4"
    tol: float = Field(default=1e-3, gt=0, lt=1)   # dopri5: rtol = atol
    steps: PositiveInt = 8                         # fixed-step methods


class EvaluationParams(Block):
    seed: int = 0
    tol: float = Field(default=1e-5, gt=0, lt=1)   # dopri5 tolerance of test NLL, density and samples
    test_points: PositiveInt = 2000
    hutchinson_draws: int = Field(default=8, ge=2)  # estimates of each test log-density


class PlotParams(Block):
    limit: float = Field(default=4.0, gt=0)        # the grid spans [-limit, limit]^2
    points: int = Field(default=80, ge=10)         # grid points per axis
    samples: PositiveInt = 2000


class AreaParameters(Block):
    densities: list[DensityName] = Field(min_length=1)
    model: FlowModelParams
    train_trace: Literal["hutchinson", "exact"] = "hutchinson"
    train_solver: SolverParams
    batch_size: PositiveInt = 256
    optimizer: OptimizerParams
    scheduler: SchedulerParams | None = None
    loop: LoopParams
    evaluation: EvaluationParams
    plot: PlotParams
    mlflow_model: DensityName = "two_moons"

    @model_validator(mode="after")
    def _logged_density_is_trained(self) -> "AreaParameters":
        if self.mlflow_model not in self.densities:
            raise ValueError(f"mlflow_model: {self.mlflow_model!r} is not among densities {self.densities}")
        return self


PARAMETERS = AreaParameters
