"""Schema of the `capsule_networks` parameter block (conf/base/parameters_capsule_networks.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.stages.tune.schema import TuneParams, trials_train
from dl_roadmap.image.capsule_schema import AffineParams, CapsNetConfig
from dl_roadmap.image.schema import DataParams


class PerturbParams(Block):
    """The capsule-dimension figure (the paper's Figure 4)."""

    digit: NonNegativeInt = Field(default=3, le=9)  # which class's first test image
    range: PositiveFloat = 0.25  # each dimension moved over [-range, range]
    steps: PositiveInt = 11


class AreaParameters(Block):
    data: DataParams
    train: CapsNetConfig  # the tune stage's starting point and the final model's budget
    affine: AffineParams
    perturb: PerturbParams
    tune: TuneParams
    explain: ExplainParams

    _tune = trials_train("train", CapsNetConfig)


PARAMETERS = AreaParameters
