"""Schema of the `vision_transformers_video` parameter block
(conf/base/parameters_vision_transformers_video.yml), checked before a run starts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams


class ClipParams(Block):
    """Moving-MNIST (image/moving_mnist.py)."""

    digits: int = Field(ge=2)  # the task compares the first two
    frames: PositiveInt
    canvas: int = Field(gt=28)  # frame side in pixels; digits are 28
    speed: PositiveFloat  # pixels per frame


class TransformerParams(Block):
    """``VideoTransformer`` arguments (models.py)."""

    patch_size: PositiveInt
    dim: PositiveInt
    depth: PositiveInt
    heads: PositiveInt
    mlp_dim: PositiveInt
    tubelet: PositiveInt = 1  # consecutive (seen) frames per token

    @model_validator(mode="after")
    def _heads_divide(self) -> TransformerParams:
        if self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be a multiple of heads ({self.heads})")
        return self


class FrameCnnParams(Block):
    """``FrameAveragingCNN`` arguments (models.py)."""

    channels: list[PositiveInt] = Field(min_length=1)
    hidden: PositiveInt
    stem: PositiveInt  # the first convolution's kernel and stride


class GifParams(Block):
    clips: PositiveInt
    frame_ms: PositiveInt


class VisionTransformersVideo(Block):
    seed: int = Field(ge=0)
    clip: ClipParams
    task: Literal["moving_right", "approaching"]  # the yes/no motion question (image/moving_mnist.py)
    train_clips: PositiveInt
    val_clips: PositiveInt
    test_clips: PositiveInt
    frame_stride: PositiveInt  # the models see every n-th frame
    threads: PositiveInt | None = None  # torch CPU threads while training (null = the trainer's)
    transformer: TransformerParams
    cnn: FrameCnnParams
    fit: FitParams
    gif: GifParams

    @model_validator(mode="after")
    def _patches_tile(self) -> VisionTransformersVideo:
        if self.clip.canvas % self.transformer.patch_size:
            raise ValueError(f"transformer.patch_size ({self.transformer.patch_size}) must divide "
                             f"clip.canvas ({self.clip.canvas})")
        if self.clip.canvas % self.cnn.stem:
            raise ValueError(f"cnn.stem ({self.cnn.stem}) must divide clip.canvas ({self.clip.canvas})")
        if self.gif.clips > self.test_clips:
            raise ValueError(f"gif.clips ({self.gif.clips}) exceeds test_clips ({self.test_clips})")
        return self


PARAMETERS = VisionTransformersVideo
