"""Schema of the `self_supervised_label_efficiency` parameter block, checked before a run
starts: an unknown key at any depth or a value out of range fails naming the key."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.image.schema import AugmentParams, AutoencoderModelParams, DataParams
from dl_roadmap.image.ssl_schema import FineTuneParams

Encoder = Literal["simclr", "moco", "byol", "rotation", "autoencoder", "supervised", "random", "scratch"]


class BudgetParams(Block):
    labels_per_class: PositiveInt | Literal["all"]
    images_seen: PositiveInt  # training images shown (the labelled set repeated as needed)
    seeds: PositiveInt = 1    # labelled draws and initialisations 0 .. seeds - 1


class RecipeParams(Block):
    augment: AugmentParams | None = None            # random_affine while fine-tuning; null = none
    lr_scale: dict[str, PositiveFloat] | None = None  # e.g. {encoder: 0.3}: pretrained encoders learn slower


class FineTuneBlock(FineTuneParams):
    images_seen: PositiveInt = 1  # set per budget (budgets[].images_seen)


class SweepParams(Block):
    encoders: list[Encoder] = Field(min_length=1)
    budgets: list[BudgetParams] = Field(min_length=1)
    recipes: dict[str, RecipeParams] = Field(min_length=1)
    finetune: FineTuneBlock


class AreaParameters(Block):
    data: DataParams
    encoder: AutoencoderModelParams   # the shape of the scratch encoder: self_supervised.pretrain.encoder
    sweep: SweepParams


PARAMETERS = AreaParameters
