"""Schemas of the capsule-network parameter blocks (image/capsules.py, image/affnist.py),
composed by the capsule_networks pipelines' own schemas."""

from __future__ import annotations

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams


class CapsNetParams(Block):
    """``CapsNet`` arguments; left out, the paper's values apply (256 conv1 channels, 32
    primary capsule types of 8-D, 16-D digit capsules, 3 routing iterations, decoder 512-1024)."""

    conv1_channels: PositiveInt = None
    conv1_kernel: PositiveInt = None
    primary_types: PositiveInt = None
    primary_dim: PositiveInt = None
    primary_kernel: PositiveInt = None
    primary_stride: PositiveInt = None
    digit_dim: PositiveInt = None
    classes: PositiveInt = None
    routing_iterations: PositiveInt = None
    decoder_hidden: list[PositiveInt] = None
    image_size: PositiveInt = None


class CapsNetConfig(Block):
    """A CapsNet training config: the model, the loss and the fit parameters."""

    model: CapsNetParams
    fit: FitParams
    reconstruction_weight: NonNegativeFloat = 0.0005  # the paper's scale of the reconstruction loss
    shift: NonNegativeInt = 2  # training images shifted by up to this many pixels


class AffineParams(Block):
    """``robustness_test_sets``: the canvas, the training shift, and the affNIST-style draws."""

    canvas: PositiveInt = 28
    train_shift: NonNegativeInt = 2
    rotation_degrees: NonNegativeFloat = 20.0
    shear: NonNegativeFloat = 0.2
    scale: float = Field(default=0.2, ge=0, lt=1)
    shift_pixels: NonNegativeFloat = 3.0
    seed: NonNegativeInt = 0
