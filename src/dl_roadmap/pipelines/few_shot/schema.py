"""Schema of the `few_shot` parameter block (conf/base/parameters_few_shot.yml), checked
before a run starts: an unknown key at any depth or a value out of range fails naming the
key (core/schema.py)."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.loop import LoopParams
from dl_roadmap.core.optim import OptimizerParams, SchedulerParams
from dl_roadmap.core.schema import Block
from dl_roadmap.image.fewshot_schema import Conv4Params, OmniglotParams


class RunsParams(Block):
    runs: int = Field(default=20, ge=1, le=20)
    size: PositiveInt = 28


class EpisodeParams(Block):
    way: int = Field(ge=2)
    shot: PositiveInt
    query: PositiveInt


class EpisodicConfig(Block):
    model: Conv4Params
    episode: EpisodeParams
    optimizer: OptimizerParams
    scheduler: SchedulerParams | None = None
    loop: LoopParams
    scale: PositiveFloat = 1.0   # Matching Networks' cosine temperature (the paper: 1)


class HeadParams(Block):
    """The baseline's new linear head, fitted on each episode's support set."""

    steps: PositiveInt = 100
    lr: PositiveFloat = 0.1
    weight_decay: float = Field(default=1e-3, ge=0)
    momentum: float = Field(default=0.9, ge=0, lt=1)


class BaselineConfig(Block):
    model: Conv4Params
    batch_size: PositiveInt
    optimizer: OptimizerParams
    scheduler: SchedulerParams | None = None
    loop: LoopParams
    head: HeadParams


class TrainParams(Block):
    protonet: EpisodicConfig
    matching: EpisodicConfig
    baseline: BaselineConfig


class EvaluationParams(Block):
    ways: list[int] = Field(min_length=1)
    shots: list[PositiveInt] = Field(min_length=1)
    query: PositiveInt = 15
    episodes: int = Field(ge=2)
    seed: NonNegativeInt = 0


class ExampleParams(Block):
    way: int = Field(default=5, ge=2)
    shot: PositiveInt = 1
    query: PositiveInt = 4
    seed: NonNegativeInt = 0


class AreaParameters(Block):
    data: OmniglotParams
    one_shot_runs: RunsParams
    train: TrainParams
    evaluation: EvaluationParams
    example: ExampleParams


PARAMETERS = AreaParameters
