"""Schema of the `self_supervised` parameter block (conf/base/parameters_self_supervised.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py). The blocks shared with the other self-supervised
pipelines are in image/ssl_schema.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.image.schema import DataParams
from dl_roadmap.image.ssl_schema import FineTuneParams, FrozenEvalParams, MethodParams, PretrainParams


class MethodsParams(Block):
    """One block per method of the pipeline (pipeline.METHODS)."""

    simclr: MethodParams
    moco: MethodParams
    byol: MethodParams
    rotation: MethodParams
    autoencoder: MethodParams
    supervised: MethodParams


class TsneParams(Block):
    images: PositiveInt
    perplexity: PositiveFloat = 30.0
    iterations: int = Field(default=1000, ge=250)  # scikit-learn's minimum is 250
    seed: NonNegativeInt = 0
    methods: list[str] = Field(min_length=1)  # `raw pixels`, `random` or a method's name


class ClassifierParams(Block):
    """The fine-tuned classifier the explain stage reads, and the encoder logged to MLflow."""

    encoder: Literal["simclr", "moco", "byol", "rotation", "autoencoder", "supervised"]
    labels_per_class: PositiveInt | Literal["all"]
    seed: NonNegativeInt = 0
    finetune: FineTuneParams


class AreaParameters(Block):
    data: DataParams
    pretrain: PretrainParams
    methods: MethodsParams
    evaluation: FrozenEvalParams
    tsne: TsneParams
    classifier: ClassifierParams
    explain: ExplainParams


PARAMETERS = AreaParameters
