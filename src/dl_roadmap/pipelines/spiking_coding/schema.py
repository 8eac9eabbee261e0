"""Schema of the `spiking_coding` parameter block (conf/base/parameters_spiking_coding.yml),
checked before a run starts (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.image.schema import DataParams
from dl_roadmap.image.snn_schema import SnnConfig


class AreaParameters(Block):
    data: DataParams
    datasets: list[Literal["mnist", "fashion_mnist"]] = Field(min_length=1)
    codings: list[Literal["rate", "latency", "direct"]] = Field(min_length=1)
    threads: PositiveInt | None = None
    train: SnnConfig       # the fully connected SNN; its model.coding is set per run from `codings`


PARAMETERS = AreaParameters
