"""Schema of the `capsule_networks_claims` parameter block
(conf/base/parameters_capsule_networks_claims.yml), checked before a run starts: an unknown
key at any depth or a value out of range fails naming the key (core/schema.py)."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.capsule_schema import AffineParams, CapsNetConfig
from dl_roadmap.image.schema import DataParams


class CnnModelParams(Block):
    """``BaselineCNN`` arguments; its hidden width is solved to match the CapsNet's parameters."""

    channels: list[PositiveInt] = Field(min_length=2, max_length=2)
    dropout: float = Field(default=0.5, ge=0, lt=1)


class CnnConfig(Block):
    model: CnnModelParams
    fit: FitParams
    shift: NonNegativeInt = 2


class AreaParameters(Block):
    data: DataParams
    capsnet: CapsNetConfig
    routing_iterations: list[PositiveInt] = Field(min_length=1)
    cnn: CnnConfig
    affine: AffineParams
    routing_images: PositiveInt = 500  # test images whose coupling coefficients are summarised


PARAMETERS = AreaParameters
