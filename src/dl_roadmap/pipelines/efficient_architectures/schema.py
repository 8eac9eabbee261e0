"""Schema of the `efficient_architectures` parameter block (conf/base/parameters_efficient_architectures.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, ValidationInfo, field_validator
from pydantic import model_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.compress.schema import CompressParams, check_compress_budgets
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.efficient import ARCH_KEYS
from dl_roadmap.image.schema import AugmentParams, DataParams


class ModelParams(Block):
    """``image.efficient.build_model``: the network and the arguments its arch takes."""

    arch: Literal["mobilenet_v1", "mobilenet_v2", "efficientnet", "squeezenet", "plain_cnn"]
    resolution: PositiveInt = None  # input resized to r x r (default: the image's 28)
    width: PositiveFloat = None  # width multiplier α (every channel count times α)
    depth: PositiveFloat = None  # EfficientNet: every stage's repeats times d, rounded up
    stem_stride: Literal[1, 2] = None  # 2 as published; 1 keeps resolution for 28 x 28 images
    dropout: float = Field(default=None, ge=0, lt=1)
    stochastic_depth: float = Field(default=None, ge=0, lt=1)
    version: Literal["1_0", "1_1"] = None  # SqueezeNet
    pool_first: bool = None  # SqueezeNet: the max pool after the stem
    channels: list[PositiveInt] = None  # plain CNN: channels per stage
    hidden: NonNegativeInt = None  # plain CNN: hidden units of the head

    @model_validator(mode="after")
    def _keys_of_the_arch(self) -> ModelParams:
        given = set(self.model_fields_set) - {"arch", "resolution"}
        wrong = sorted(given - ARCH_KEYS[self.arch])
        if wrong:
            raise ValueError(f"{self.arch} does not take {wrong}; it takes {sorted(ARCH_KEYS[self.arch])}")
        return self


class TrainingConfig(Block):
    """A training config: the model, its fit parameters (core.training.fit), optional augmentation."""

    model: ModelParams
    fit: FitParams
    augment: AugmentParams | None = None
    label_smoothing: float = Field(default=0.0, ge=0, lt=1)


class FamilyParams(Block):
    """One training config per small network (pipeline.MEMBERS)."""

    plain_cnn: TrainingConfig
    mobilenet_v1: TrainingConfig
    mobilenet_v2: TrainingConfig
    efficientnet_b0: TrainingConfig
    squeezenet_1_0: TrainingConfig
    squeezenet_1_1: TrainingConfig


class LatencyParams(Block):
    repeats: PositiveInt = 30  # timed forward passes at batch 1; the median is reported
    warmup: NonNegativeInt = 5
    threads: PositiveInt = 1


class QuantizationParams(Block):
    calibration_size: PositiveInt = 1024  # validation images that calibrate the activation ranges
    batch_size: PositiveInt = 256


class AreaParameters(Block):
    data: DataParams
    family: FamilyParams
    latency: LatencyParams
    quantization: QuantizationParams
    # torch threads while training (fit sets them for the rest of the run); null = the trainer block's
    train_threads: PositiveInt | None = None
    compress: CompressParams
    explain: ExplainParams

    @field_validator("compress")
    @classmethod
    def _budgets(cls, compress: CompressParams, info: ValidationInfo) -> Any:
        # the stage retrains MobileNet V2's config: its budgets must make valid fit blocks
        family = info.data.get("family")
        return check_compress_budgets(TrainingConfig, family.mobilenet_v2 if family else None, compress)


PARAMETERS = AreaParameters
