"""Schema of the `architectures_recurrent` parameter block
(conf/base/parameters_architectures_recurrent.yml), checked before a run starts: an unknown
key at any depth or a value out of range fails naming the key (core/schema.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import DataParams
from dl_roadmap.pipelines.architectures_recurrent.models import MNIST1D_MODELS

Cell = Literal["rnn", "lstm", "gru"]


class RaceParams(Block):
    """race.race: one forward + backward pass, ours against torch."""

    batch_size: PositiveInt
    steps: PositiveInt
    input_size: PositiveInt
    hidden_size: PositiveInt
    repeats: PositiveInt = 10
    warmup: int = Field(default=2, ge=0)
    threads: PositiveInt = 1


class Mnist1dData(Block):
    overrides: dict[str, Any] | None = None  # make_dataset arguments changed (null = the package's defaults)


class Mnist1dParams(Block):
    data: Mnist1dData
    models: list[Literal[MNIST1D_MODELS]] = Field(min_length=1)  # type: ignore[valid-type]
    threads: PositiveInt | None = None  # torch CPU threads while training (null = the trainer block's)
    epochs: dict[Literal[MNIST1D_MODELS], PositiveInt] | None = None  # type: ignore[valid-type]  # per-model fit.max_epochs
    fit: FitParams


class StudyParams(Block):
    """A recurrent study: the cells to compare, their size, which implementation, the fit."""

    cells: list[Cell] = Field(min_length=1)
    hidden_size: PositiveInt
    impl: Literal["torch", "ours"] = "torch"  # torch's fused layers, or cells.py (same maths, slower)
    threads: PositiveInt | None = None  # torch CPU threads while training (null = the trainer block's)
    fit: FitParams


class PixelRowsParams(StudyParams):
    data: DataParams


class AreaParameters(Block):
    race: RaceParams
    mnist1d: Mnist1dParams
    pixel_rows: PixelRowsParams


PARAMETERS = AreaParameters
