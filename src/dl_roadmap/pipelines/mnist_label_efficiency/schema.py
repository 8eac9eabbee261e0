"""Schema of the ``mnist_label_efficiency`` parameter block
(conf/base/parameters_mnist_label_efficiency.yml), checked before a run starts (core/schema.py)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, NonNegativeInt, PlainValidator, PositiveFloat, PositiveInt, ValidationInfo, field_validator

from dl_roadmap.core.optim import OptimizerParams
from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import AugmentParams, ClassifierHeadParams, DataParams


def _count_or_all(value: Any) -> Any:
    # One check for a count or a word: a union would report each member's failure.
    if value == "all" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise ValueError(f"a positive number of labels per class, or 'all', got {value!r}")


class Recipe(Block):
    """How the classifier is fine-tuned: augmentation and a slower rate for submodules."""

    augment: AugmentParams | None = None  # null: no augmentation
    lr_scale: dict[str, PositiveFloat] | None = None  # submodule -> factor of lr; null: one rate


class SweepFit(FitParams):
    """The classifier's fit block: one epoch over the repeated labelled subset, so the
    budget is ``images_seen``, and each recipe sets the optimizer's ``lr_scale``."""

    optimizer: OptimizerParams  # the sweep reads it to add each recipe's lr_scale

    @field_validator("max_epochs")
    @classmethod
    def _one_epoch(cls, value: int) -> int:
        raise ValueError("the sweep trains one epoch over its repeated subset: set images_seen instead")

    @field_validator("optimizer")
    @classmethod
    def _scale_per_recipe(cls, value: OptimizerParams) -> OptimizerParams:
        if value.lr_scale is not None:
            raise ValueError("lr_scale is set by each recipe (sweep.recipes.<name>.lr_scale)")
        return value


class Classifier(Block):
    model: ClassifierHeadParams = None  # the head on the (pretrained or fresh) encoder
    fit: SweepFit


class Sweep(Block):
    seed: NonNegativeInt
    labels_per_class: list[Annotated[Any, PlainValidator(_count_or_all)]] = Field(min_length=1)
    images_seen: list[PositiveInt] = Field(min_length=1)  # training images shown per run, per budget
    recipes: dict[str, Recipe] = Field(min_length=1)
    classifier: Classifier

    @field_validator("images_seen")
    @classmethod
    def _one_per_budget(cls, seen: list[int], info: ValidationInfo) -> list[int]:
        budgets = info.data.get("labels_per_class")
        if budgets is not None and len(budgets) != len(seen):
            raise ValueError(f"one number per labels_per_class entry ({len(budgets)}), got {len(seen)}")
        return seen


class MnistLabelEfficiency(Block):
    data: DataParams
    sweep: Sweep


PARAMETERS = MnistLabelEfficiency
