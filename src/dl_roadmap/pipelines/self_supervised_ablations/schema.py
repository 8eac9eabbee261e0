"""Schema of the `self_supervised_ablations` parameter block, checked before a run starts:
an unknown key at any depth or a value out of range fails naming the key."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.image.schema import DataParams
from dl_roadmap.image.ssl_schema import FrozenEvalParams, MethodParams, PretrainParams


class StudyParams(Block):
    path: str = Field(min_length=1)    # dotted path into `base` (fit.batch_size, temperature, head.layers)
    values: list[Any] = Field(min_length=1)


class AreaParameters(Block):
    data: DataParams
    pretrain: PretrainParams
    images_seen: PositiveInt           # images every run trains on (steps = images_seen / batch size)
    base: MethodParams                 # the SimCLR config each study changes one key of
    studies: dict[str, StudyParams] = Field(min_length=1)
    evaluation: FrozenEvalParams


PARAMETERS = AreaParameters
