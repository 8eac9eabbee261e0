"""Parameter schemas shared by the few-shot pipelines: the Omniglot block
(``fewshot_omniglot.omniglot_splits``) and the Conv-4 embedding (``fewshot_episodes.Conv4``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt, model_validator

from dl_roadmap.core.schema import Block

BackgroundSet = Literal["images_background_small1", "images_background_small2"]


class OmniglotParams(Block):
    train_set: BackgroundSet
    test_set: BackgroundSet
    rotations: list[Literal[0, 90, 180, 270]] = Field(min_length=1)   # each rotation of a character a new class
    size: PositiveInt = 28
    alphabets: list[str] | None = None        # a subset of both sets' alphabets (null = all)
    max_characters: PositiveInt | None = None  # per alphabet (null = all)

    @model_validator(mode="after")
    def _sets_differ(self) -> OmniglotParams:
        if self.train_set == self.test_set:
            raise ValueError("train_set and test_set must be different background sets (unseen alphabets)")
        return self


class Conv4Params(Block):
    """``Conv4`` arguments."""

    channels: PositiveInt = 64
    blocks: PositiveInt = 4
