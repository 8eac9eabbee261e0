"""Schema of the `spiking` parameter block (conf/base/parameters_spiking.yml), checked
before a run starts: an unknown key at any depth or a value out of range fails naming the
key (core/schema.py)."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.image.schema import DataParams
from dl_roadmap.image.snn_schema import EvaluateParams, SnnConfig


class LifCheckParams(Block):
    """Our LIF against snntorch's Leaky on random currents."""

    steps: PositiveInt
    batch: PositiveInt
    neurons: PositiveInt
    beta: float = Field(ge=0, le=1)
    threshold: PositiveFloat
    seed: NonNegativeInt = 0
    repeats: PositiveInt = 5
    threads: PositiveInt = 1


class AreaParameters(Block):
    lif_check: LifCheckParams
    data: DataParams
    train: SnnConfig
    evaluate: EvaluateParams


PARAMETERS = AreaParameters
