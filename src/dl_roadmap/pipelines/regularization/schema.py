"""Schema of the ``regularization`` parameter block (conf/base/parameters_regularization.yml),
checked before a run starts (core/schema.py).

Variants, the cross-validated parameter and the boosting learner are dotted-path
overrides of ``base`` (training.py): free-form mappings, checked by applying them to
``base`` and checking the result, so an error names ``variants.<name>.<dotted key>``.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from pydantic import (
    ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, ValidationInfo,
    field_validator, model_validator,
)

from dl_roadmap.core.params import with_overrides
from dl_roadmap.core.schema import Block, schema_problems
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.stages.tune.schema import TuneParams, trials_train
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import DataParams
from dl_roadmap.pipelines.regularization.nodes import CV_DEFAULTS


class Model(Block):
    """``RegularizedMLP`` arguments (its seed comes from the fit block)."""

    depth: PositiveInt = None
    width: PositiveInt = None
    dropout: float = Field(default=None, ge=0, lt=1)
    dropconnect: float = Field(default=None, ge=0, lt=1)
    batchnorm: bool = None
    input_dropout: float = Field(default=None, ge=0, lt=1)
    in_features: PositiveInt = None
    classes: PositiveInt = None


class Penalty(Block):
    l1: NonNegativeFloat = None  # coefficient of sum |w| in the loss
    l2: NonNegativeFloat = None  # coefficient of 1/2 sum w^2 in the loss


class Config(Block):
    """A training config (training.py): what every variant, fold, member and trial trains."""

    model: Model = None
    penalty: Penalty = None
    weights: Literal["last", "best"] = None  # last epoch | best validation epoch
    fit: FitParams = None


def override_problems(base: Config, overrides: dict[str, Any], where: str) -> list[str]:
    """What is wrong with ``base`` after the dotted ``overrides``, each problem named from ``where``."""
    try:
        changed = with_overrides(base.model_dump(exclude_unset=True), overrides)
    except KeyError as error:
        return [f"{where}: {error.args[0]}"]
    return schema_problems(Config, changed, where)


def _raise(problems: list[str]) -> None:
    if problems:
        raise ValueError("\n    ".join(["", *problems]))


class CrossValidation(Block):
    parameter: str = Field(default=None, min_length=1)  # a dotted path into base
    candidates: list[Any] = Field(default=None, min_length=2)
    folds: int = Field(default=None, ge=2)
    seed: NonNegativeInt = None


class Bagging(Block):
    members: PositiveInt = None
    seed: NonNegativeInt = None


class Boosting(Block):
    rounds: PositiveInt = None
    seed: NonNegativeInt = None
    learner: dict[str, Any] = None  # dotted overrides of base: the weak learner


class GradientBoosting(Block):
    """HistGradientBoostingClassifier arguments: any the class takes."""

    model_config = ConfigDict(extra="allow")

    max_iter: PositiveInt = None
    learning_rate: PositiveFloat = None
    random_state: int | None = None

    @model_validator(mode="after")
    def _arguments_of_the_class(self) -> GradientBoosting:
        from sklearn.ensemble import HistGradientBoostingClassifier

        accepted = sorted(inspect.signature(HistGradientBoostingClassifier).parameters)
        unknown = sorted(set(self.model_extra or {}) - set(accepted))
        if unknown:
            raise ValueError(f"unknown key(s) {unknown}: HistGradientBoostingClassifier accepts {accepted}")
        return self


class Regularization(Block):
    data: DataParams
    base: Config  # what every variant starts from
    variants: dict[str, dict[str, Any]] = Field(min_length=1)  # name -> dotted overrides of base
    reference: str  # the variant the others are compared with
    weight_decay_sweep: list[NonNegativeFloat] = Field(min_length=1)
    cross_validation: CrossValidation
    bagging: Bagging
    boosting: Boosting
    gradient_boosting: GradientBoosting
    tuning: Config  # the tune stage's starting point
    tune: TuneParams  # over tuning
    explain: ExplainParams

    _tune = trials_train("tuning", Config)

    @field_validator("variants")
    @classmethod
    def _variants_over_base(cls, variants: dict[str, dict[str, Any]], info: ValidationInfo) -> Any:
        if "base" in info.data:
            _raise([problem for name, overrides in variants.items()
                    for problem in override_problems(info.data["base"], overrides, f"variants.{name}")])
        return variants

    @field_validator("reference")
    @classmethod
    def _one_of_the_variants(cls, reference: str, info: ValidationInfo) -> str:
        variants = info.data.get("variants")
        if variants is not None and reference not in variants:
            raise ValueError(f"{reference!r} is not one of the variants {sorted(variants)}")
        return reference

    @field_validator("cross_validation")
    @classmethod
    def _candidates_over_base(cls, block: CrossValidation, info: ValidationInfo) -> CrossValidation:
        if "base" in info.data:
            parameter = block.parameter or CV_DEFAULTS["parameter"]
            problems = [problem for value in block.candidates or []
                        for problem in override_problems(info.data["base"], {parameter: value}, "cross_validation")]
            _raise(list(dict.fromkeys(problems)))  # a wrong path fails alike for every candidate
        return block

    @field_validator("boosting")
    @classmethod
    def _learner_over_base(cls, block: Boosting, info: ValidationInfo) -> Boosting:
        if "base" in info.data:
            _raise(override_problems(info.data["base"], block.learner or {}, "boosting.learner"))
        return block


PARAMETERS = Regularization
