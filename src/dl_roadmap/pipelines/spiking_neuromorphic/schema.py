"""Schema of the `spiking_neuromorphic` parameter block
(conf/base/parameters_spiking_neuromorphic.yml), checked before a run starts (core/schema.py)."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.image.snn_schema import EvaluateParams, SnnConfig


class ClipParams(Block):
    """``image.moving_mnist.generate`` settings (one digit per clip)."""

    frames: int = Field(ge=2)          # T + 1 frames give T event frames
    canvas: int = Field(gt=28)
    speed: PositiveFloat               # pixels per frame


class EventParams(Block):
    clip: ClipParams
    threshold: PositiveFloat           # contrast threshold C on log intensity
    train_clips: PositiveInt
    val_clips: PositiveInt
    test_clips: PositiveInt
    picture_clips: PositiveInt = 6
    gif_frame_ms: PositiveInt = 150
    seed: NonNegativeInt = 0


class AreaParameters(Block):
    events: EventParams
    train: SnnConfig
    evaluate: EvaluateParams


PARAMETERS = AreaParameters
