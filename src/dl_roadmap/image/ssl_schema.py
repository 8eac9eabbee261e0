"""Parameter schemas of the self-supervised blocks (views, encoder, heads, methods, pretraining,
frozen evaluation, fine-tuning), composed by the self_supervised pipelines' ``schema.py``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import AugmentParams, AutoencoderModelParams, ClassifierHeadParams, DenoisingParams



class ViewParams(Block):
    """``ssl_augment.random_view``: crop, flip, rotation, elastic warp, intensity jitter, noise."""

    crop_scale: tuple[PositiveFloat, PositiveFloat] = None
    crop_ratio: tuple[PositiveFloat, PositiveFloat] = None
    degrees: NonNegativeFloat = None
    flip: float = Field(default=None, ge=0, le=1)
    elastic_alpha: NonNegativeFloat = None
    elastic_grid: int = Field(default=None, ge=2)
    elastic_p: float = Field(default=None, ge=0, le=1)
    contrast: float = Field(default=None, ge=0, lt=1)
    brightness: float = Field(default=None, ge=0, le=1)
    jitter_p: float = Field(default=None, ge=0, le=1)
    noise_std: NonNegativeFloat = None
    noise_p: float = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _ranges(self) -> ViewParams:
        for key in ("crop_scale", "crop_ratio"):
            value = getattr(self, key)
            if value is not None and value[0] > value[1]:
                raise ValueError(f"{key}: [low, high] with low <= high, got {list(value)}")
        if self.crop_scale is not None and self.crop_scale[1] > 1:
            raise ValueError(f"crop_scale: a fraction of the image's area, at most 1, got {list(self.crop_scale)}")
        return self


class HeadParams(Block):
    """A projection head (``ssl_methods.projection_head``) or the rotation classifier's hidden width."""

    hidden: PositiveInt = None
    out: PositiveInt = None
    layers: Literal[0, 1, 2] = None


class MethodParams(Block):
    """One pretraining method (``ssl_train`` docstring lists which keys each kind reads)."""

    kind: Literal["simclr", "moco", "byol", "rotation", "autoencoder", "supervised"]
    temperature: PositiveFloat = None
    queue_size: PositiveInt = None
    momentum: float = Field(default=None, ge=0, lt=1)
    bn_splits: PositiveInt = None
    head: HeadParams = None
    predictor_hidden: PositiveInt = None
    denoising: DenoisingParams | None = None
    affine: AugmentParams | None = None
    model: ClassifierHeadParams = None
    augment: ViewParams = None
    fit: FitParams = None


class PretrainParams(Block):
    """What every method shares: the unlabelled images, the encoder, the views and the fit block."""

    images: PositiveInt  # the first N training images (labels unused, except by `supervised`)
    encoder: AutoencoderModelParams
    augment: ViewParams
    fit: FitParams


class FrozenEvalParams(Block):
    """Linear probe and kNN on frozen features; geometry on test images."""

    probe_train: PositiveInt  # training images the probe and kNN are fitted on
    probe_c: PositiveFloat = 1.0
    probe_max_iter: PositiveInt = 500
    knn_k: PositiveInt = 20
    geometry_images: PositiveInt = 2000
    seed: NonNegativeInt = 0


class FineTuneParams(Block):
    """A classifier on a (pretrained) encoder: head, step augmentation, images seen, fit block."""

    model: ClassifierHeadParams = None
    augment: AugmentParams | None = None
    images_seen: PositiveInt
    fit: FitParams
