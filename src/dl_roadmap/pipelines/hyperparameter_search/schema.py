"""Schema of the ``hyperparameter_search`` parameter block
(conf/base/parameters_hyperparameter_search.yml), checked before a run starts (core/schema.py).

Every strategy searches the area's one ``search_space`` with its one ``trial`` budget (the
pipeline maps them into each tune stage), so a strategy's ``tune`` block holds its study only.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, NonNegativeInt, PositiveInt, ValidationInfo, field_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.tune.schema import SamplerParams, StudyParams, TrialParams, tuned_config_problems
from dl_roadmap.image.schema import DataParams, MlpConfig


class StrategyTune(Block):
    study: StudyParams


class Strategy(Block):
    tune: StrategyTune


class SklearnRandom(Block):
    n_iter: PositiveInt = None  # candidates drawn
    seed: NonNegativeInt = None


class RepeatSampler(SamplerParams):
    """A sampler of the repeated searches: its seeds are ``repeats.seeds``."""

    @field_validator("seed")
    @classmethod
    def _seeds_elsewhere(cls, seed: int | None) -> int | None:
        raise ValueError("set the seeds in repeats.seeds")


class Repeats(Block):
    seeds: list[NonNegativeInt] = None
    n_trials: PositiveInt = None
    samplers: dict[str, RepeatSampler] = Field(default=None, min_length=1)  # strategy name -> sampler


class HyperparameterSearch(Block):
    data: DataParams
    objective: MlpConfig  # what every trial trains
    search_space: dict[str, dict[str, Any]]  # of every strategy (the tune stage's format, with grid lists)
    trial: TrialParams
    grid: Strategy
    random: Strategy
    tpe: Strategy
    gp: Strategy
    sklearn_random: SklearnRandom
    repeats: Repeats

    @field_validator("search_space")
    @classmethod
    def _searchable_by_every_strategy(cls, space: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from dl_roadmap.pipelines.hyperparameter_search.nodes import sklearn_distributions, sklearn_grid

        # The tune stage's check, the grid the grid strategies need, and the paths and
        # distributions the scikit-learn searches can express: each raises naming the path.
        sklearn_grid(space)
        sklearn_distributions(space)
        return space

    @field_validator("trial")
    @classmethod
    def _trials_train_the_objective(cls, trial: TrialParams, info: ValidationInfo) -> TrialParams:
        objective, space = info.data.get("objective"), info.data.get("search_space")
        if objective is not None and space is not None:
            problems = tuned_config_problems(MlpConfig, objective, space, trial.overrides,
                                             space_where="search_space", overrides_where="trial.overrides")
            if problems:
                raise ValueError("the configs the trials train would fail:\n    " + "\n    ".join(problems))
        return trial


PARAMETERS = HyperparameterSearch
