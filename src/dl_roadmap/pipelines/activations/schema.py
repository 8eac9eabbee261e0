"""Schema of the ``activations`` parameter block (conf/base/parameters_activations.yml),
checked before a run starts (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.stages.tune.schema import TuneParams, trials_train
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.blocks import ACTIVATIONS
from dl_roadmap.image.schema import DataParams, MlpConfig, MlpParams


class Variant(MlpParams):
    """One variant's DeepMLP settings over the shared ``model`` block."""

    activation: Literal[ACTIVATIONS]  # type: ignore[valid-type]


class Statistics(Block):
    batch_size: PositiveInt  # validation images in the fixed batch the layer statistics read


class Activations(Block):
    data: DataParams
    model: MlpParams  # what every variant shares
    variants: dict[str, Variant] = Field(min_length=1)
    fit: FitParams  # the same for every variant
    statistics: Statistics
    tuning: MlpConfig  # the tune stage's starting point
    tune: TuneParams  # over tuning
    explain: ExplainParams

    _tune = trials_train("tuning", MlpConfig)


PARAMETERS = Activations
