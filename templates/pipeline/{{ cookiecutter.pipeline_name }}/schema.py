"""Schema of the `{{ cookiecutter.pipeline_name }}` parameter block (conf/base/parameters_{{ cookiecutter.pipeline_name }}.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py). Add a field here for every key you add to the YAML file."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.compress.schema import CompressParams, variants_train
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.stages.tune.schema import TuneParams, trials_train
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import DataParams


class ModelParams(Block):
    """``TwoLayerPerceptron`` arguments (models.py)."""

    inputs: PositiveInt = 784
    hidden: PositiveInt = 128
    classes: PositiveInt = 10
    dropout: float = Field(default=0.1, ge=0, lt=1)


class TrainingConfig(Block):
    """A training config: the model and its fit parameters (core.training.fit)."""

    model: ModelParams
    fit: FitParams


class AreaParameters(Block):
    data: DataParams
    train: TrainingConfig
    tuning: TrainingConfig  # the tune stage's starting point
    tune: TuneParams
    compress: CompressParams
    explain: ExplainParams

    # The search space and the compression budgets are applied to the tuning config, so a
    # misspelt path or a range the config cannot take fails before the run too.
    _tune = trials_train("tuning", TrainingConfig)
    _compress = variants_train("tuning", TrainingConfig)


PARAMETERS = AreaParameters
