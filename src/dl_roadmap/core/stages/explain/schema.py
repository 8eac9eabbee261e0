"""Schema of an area's ``explain`` block (checked before a run starts; see core/schema.py).
Blocks and defaults are documented in nodes.py."""

from __future__ import annotations

from typing import Literal

from pydantic import FiniteFloat, NonNegativeInt, PositiveInt

from dl_roadmap.core.schema import Block


class ExamplesParams(Block):
    split: Literal["train", "val", "test"] = "test"
    per_class: PositiveInt = 2  # items per true class
    count: PositiveInt = 20  # items drawn at random where there are no class targets


class ShapParams(Block):
    background: PositiveInt = 100
    n_samples: PositiveInt = 200
    batch_size: PositiveInt = 50


class LimeParams(Block):
    num_samples: PositiveInt = 1000
    cell: PositiveInt = 4  # images: grid cells of cell x cell pixels
    num_features: PositiveInt | None = None
    batch_size: PositiveInt = 200


class DeletionParams(Block):
    steps: PositiveInt = 20
    random_orders: PositiveInt = 3


class ExplainParams(Block):
    """``<area>.explain``: the six entries must be there (the stage's nodes read each of
    them); a block's keys may be left out (``{}`` or null: all defaults)."""

    seed: NonNegativeInt
    baseline: FiniteFloat  # the value of a removed input feature (pixel, time step...)
    examples: ExamplesParams | None
    shap: ShapParams | None
    lime: LimeParams | None
    deletion: DeletionParams | None
