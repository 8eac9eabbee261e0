"""Schema of the ``sequence_models_gpt`` parameter block
(conf/base/parameters_sequence_models_gpt.yml), checked before a run starts (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, ValidationInfo, field_validator

from dl_roadmap.core.loop import LoopParams
from dl_roadmap.core.optim import OptimizerParams, SchedulerParams
from dl_roadmap.core.schema import Block


class Data(Block):
    val_fraction: float = Field(gt=0, lt=1)
    max_chars: PositiveInt | None = None  # keep the start of the corpus only (small runs)


class Model(Block):
    layers: PositiveInt
    heads: PositiveInt
    dim: PositiveInt
    dropout: float = Field(default=0.0, ge=0, lt=1)
    positions: Literal["sinusoidal", "learned"] = "learned"

    @field_validator("dim")
    @classmethod
    def _heads_divide_width(cls, dim: int, info: ValidationInfo) -> int:
        heads = info.data.get("heads")
        if heads and dim % heads:
            raise ValueError(f"dim ({dim}) must be a multiple of heads ({heads})")
        return dim


class Training(Block):
    block_size: PositiveInt
    batch_size: PositiveInt
    optimizer: OptimizerParams
    scheduler: SchedulerParams | None = None
    gradient_clip_val: PositiveFloat | None = None
    eval_batches: PositiveInt  # random validation windows per estimate


class Sampling(Block):
    prompts: list[str] = Field(min_length=1)
    new_tokens: PositiveInt
    temperature: float = Field(ge=0)
    top_k: PositiveInt | None = None


class Benchmark(Block):
    batch_sizes: list[PositiveInt] = Field(min_length=1)
    repeats: PositiveInt = 3


class Sweep(Block):
    prompt: str = Field(min_length=1)
    new_tokens: PositiveInt
    temperatures: list[PositiveFloat] = Field(min_length=1)
    top_k: list[PositiveInt | None] = Field(min_length=1)  # null = no cut
    seed: NonNegativeInt = 0


class SequenceModelsGpt(Block):
    data: Data
    model: Model
    training: Training
    loop: LoopParams
    num_threads: PositiveInt | None = None  # replaces trainer.num_threads for this training
    anchor_val_loss: PositiveFloat  # the published figure the plot draws
    sampling: Sampling
    benchmark: Benchmark
    sweep: Sweep


PARAMETERS = SequenceModelsGpt
