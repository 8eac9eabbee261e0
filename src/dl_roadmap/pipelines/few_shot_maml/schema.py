"""Schema of the `few_shot_maml` parameter block (conf/base/parameters_few_shot_maml.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.loop import LoopParams
from dl_roadmap.core.optim import OptimizerParams, SchedulerParams
from dl_roadmap.core.schema import Block
from dl_roadmap.image.fewshot_schema import Conv4Params, OmniglotParams


class TaskParams(Block):
    way: int = Field(ge=2)
    shot: PositiveInt
    query: PositiveInt


class InnerParams(Block):
    steps: PositiveInt          # inner gradient steps while meta-training
    lr: PositiveFloat           # alpha


class TrainParams(Block):
    model: Conv4Params
    task: TaskParams
    inner: InnerParams
    meta_batch: PositiveInt
    optimizer: OptimizerParams  # the outer (meta) optimizer
    scheduler: SchedulerParams | None = None
    loop: LoopParams


class EvaluationParams(Block):
    ways: list[int] = Field(min_length=1)
    shots: list[PositiveInt] = Field(min_length=1)
    query: PositiveInt = 5
    episodes: int = Field(ge=2)
    steps: PositiveInt          # inner steps at test time (the reported accuracy)
    curve_steps: PositiveInt = 3        # the inner-loop curve shows 0..curve_steps
    curve_episodes: PositiveInt = 100   # the first episodes of each setting, which make the curve
    seed: NonNegativeInt = 0


class AreaParameters(Block):
    data: OmniglotParams
    train: TrainParams
    evaluation: EvaluationParams


PARAMETERS = AreaParameters
