"""Schema of the ``sequence_models`` parameter block (conf/base/parameters_sequence_models.yml),
checked before a run starts (core/schema.py)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, NonNegativeInt, PositiveInt, ValidationInfo, field_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams
from dl_roadmap.text.dates import FORMS


class Data(Block):
    n_train: PositiveInt
    n_val: PositiveInt
    n_test: PositiveInt
    seed: NonNegativeInt = 0
    max_input_length: PositiveInt = 96
    forms: dict[str, Annotated[float, Field(gt=0)]] | None = None  # form -> weight

    @field_validator("forms")
    @classmethod
    def _known_forms(cls, forms: dict[str, float] | None) -> dict[str, float] | None:
        unknown = sorted(set(forms or {}) - set(FORMS))
        if unknown:
            raise ValueError(f"unknown form(s) {unknown}; known forms are {sorted(FORMS)}")
        return forms


class FitOverrides(Block):
    """Keys of ``fit`` a model may set for itself (merged over the shared block)."""

    max_epochs: PositiveInt | None = None
    batch_size: PositiveInt | None = None
    optimizer: dict | None = None
    scheduler: dict | None = None
    gradient_clip_val: float | None = None


class Gru(Block):
    kind: Literal["gru"]
    attention: Literal["none", "additive", "luong"]
    embed: PositiveInt = 64
    hidden: PositiveInt = 128
    dropout: float = Field(default=0.0, ge=0, lt=1)
    fit: FitOverrides | None = None


class Transformer(Block):
    kind: Literal["transformer"]
    dim: PositiveInt = 128
    heads: PositiveInt = 4
    encoder_layers: PositiveInt = 2
    decoder_layers: PositiveInt = 2
    dropout: float = Field(default=0.0, ge=0, lt=1)
    positions: Literal["sinusoidal", "learned"] = "sinusoidal"
    fit: FitOverrides | None = None

    @field_validator("heads")
    @classmethod
    def _heads_divide_width(cls, heads: int, info: ValidationInfo) -> int:
        dim = info.data.get("dim")
        if dim and dim % heads:
            raise ValueError(f"dim ({dim}) must be a multiple of heads ({heads})")
        return heads


Model = Annotated[Union[Gru, Transformer], Field(discriminator="kind")]


class Heatmaps(Block):
    examples: PositiveInt = 3
    seed: NonNegativeInt = 0


class Serving(Block):
    model: str  # the name of one of `models`, logged as the MLflow model


class SequenceModels(Block):
    data: Data
    models: dict[str, Model] = Field(min_length=1)
    fit: FitParams
    num_threads: PositiveInt | None = None  # replaces trainer.num_threads for these trainings
    length_bins: list[NonNegativeInt] = Field(min_length=2)
    heatmaps: Heatmaps
    serving: Serving

    @field_validator("length_bins")
    @classmethod
    def _bins_cover_the_inputs(cls, bins: list[int], info: ValidationInfo) -> list[int]:
        if bins != sorted(set(bins)):
            raise ValueError(f"length_bins must increase strictly, got {bins}")
        data = info.data.get("data")
        if data is not None and bins[-1] < data.max_input_length:
            raise ValueError(f"the last bin must reach data.max_input_length ({data.max_input_length})")
        return bins

    @field_validator("serving")
    @classmethod
    def _serves_a_trained_model(cls, serving: Serving, info: ValidationInfo) -> Serving:
        models = info.data.get("models")
        if models is not None and serving.model not in models:
            raise ValueError(f"serving.model {serving.model!r} is not among models {sorted(models)}")
        return serving


PARAMETERS = SequenceModels
