"""Schemas of the image library's parameter blocks (checked before a run starts; see
core/schema.py): the split of an MNIST-format set, augmentation, corruption, and the
model blocks of ``DeepMLP``, ``SmallCNN``, the convolutional autoencoder and its
classifier head. Areas compose them in their ``pipelines/<area>/schema.py``.

A field typed without ``| None`` whose default is None is an optional key that may not be
null: left out, the reading code's own default applies (the arguments' defaults of
``random_affine``, ``DeepMLP``...), so the values are not repeated here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.blocks import ACTIVATIONS, INITS


class DataParams(Block):
    """``split_mnist``: a seeded validation hold-out from the training images, then subsets."""

    val_size: PositiveInt
    seed: NonNegativeInt
    train_limit: PositiveInt | None = None  # the first N training images (the validation set keeps N / 5)
    test_limit: PositiveInt | None = None


class AugmentParams(Block):
    """``random_affine``: per-image rotation, shift and zoom, while training."""

    degrees: NonNegativeFloat = None
    translate: float = Field(default=None, ge=0, lt=1)  # a fraction of the image size
    scale: float = Field(default=None, ge=0, lt=1)  # zoom in [1 - scale, 1 + scale]


class DenoisingParams(Block):
    """``corrupt``: the noise a denoising autoencoder learns to remove."""

    kind: Literal["mask", "gaussian"]  # drop pixels | add Gaussian noise
    level: NonNegativeFloat  # the dropping probability, or the noise's standard deviation

    @model_validator(mode="after")
    def _a_probability_for_mask(self) -> DenoisingParams:
        if self.kind == "mask" and self.level >= 1:
            raise ValueError(f"level is the probability of dropping a pixel: below 1, got {self.level}")
        return self


class MlpParams(Block):
    """``DeepMLP`` arguments (its seed comes from the config's fit block)."""

    activation: Literal[ACTIVATIONS] = None  # type: ignore[valid-type]
    depth: PositiveInt = None
    width: PositiveInt = None
    dropout: float = Field(default=None, ge=0, lt=1)
    negative_slope: NonNegativeFloat = None  # leaky_relu only
    elu_alpha: PositiveFloat = None  # elu only: the value it saturates to is -alpha
    init: Literal[INITS] | None = None  # type: ignore[valid-type]  # null: the activation's own scheme
    in_features: PositiveInt = None
    classes: PositiveInt = None


class CnnParams(Block):
    """``SmallCNN`` arguments (its seed comes from the config's fit block)."""

    channels: list[PositiveInt] = Field(default=None, min_length=1)  # one downsampling stage per entry
    hidden: NonNegativeInt = None  # 0: a single linear head
    dropout: float = Field(default=None, ge=0, lt=1)
    in_channels: PositiveInt = None
    image_size: PositiveInt = None
    classes: PositiveInt = None


class AutoencoderModelParams(Block):
    """``ConvAutoencoder`` (and ``ConvEncoder``) arguments."""

    latent_dim: PositiveInt = None
    channels: list[PositiveInt] = Field(default=None, min_length=1)  # one downsampling stage per entry


class ClassifierHeadParams(Block):
    """``DigitClassifier``'s head on the encoder."""

    hidden: PositiveInt = None
    dropout: float = Field(default=None, ge=0, lt=1)


class ClassifierConfig(Block):
    """A config the image classification task trains (image/tasks.py): the step's
    augmentation and label smoothing and the fit block; areas add their ``model`` block."""

    augment: AugmentParams | None = None  # null: no augmentation
    label_smoothing: float = Field(default=None, ge=0, lt=1)
    fit: FitParams = None


class MlpConfig(ClassifierConfig):
    """The config of ``MLP_TASK`` (a DeepMLP from ``model``)."""

    model: MlpParams
