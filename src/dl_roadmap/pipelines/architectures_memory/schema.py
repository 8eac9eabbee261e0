"""Schema of the `architectures_memory` parameter block (conf/base/parameters_architectures_memory.yml),
checked before a run starts: an unknown key or a value out of range fails naming the key."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams


class AreaParameters(Block):
    task: Literal["adding"] = "adding"
    lengths: list[int] = Field(min_length=1)  # sequence lengths T
    cells: list[Literal["rnn", "lstm", "gru"]] = Field(min_length=1)
    hidden_size: PositiveInt
    lstm_forget_bias: float | None = 1.0  # the LSTM's initial forget-gate bias (null: torch's default)
    train_size: PositiveInt  # training sequences per length (the fit budget's epochs go over them)
    test_size: PositiveInt  # validation and test sequences per length, each freshly drawn
    seed: int = Field(default=0, ge=0)
    solved_mse: PositiveFloat  # test MSE below it counts as solved (always answering 1 scores 0.167)
    stop_mse: PositiveFloat | None = None  # stop a training once validation MSE is below it (null = never)
    threads: PositiveInt | None = None  # torch CPU threads while training (null = the trainer block's)
    fit: FitParams

    @field_validator("lengths")
    @classmethod
    def _at_least_two(cls, lengths: list[int]) -> list[int]:
        if min(lengths) < 2:
            raise ValueError(f"every length must be at least 2 (one mark in each half), got {lengths}")
        return lengths


PARAMETERS = AreaParameters
