"""Schemas of the ViT's parameter blocks (checked before a run starts; see core/schema.py):
the ``VisionTransformer`` arguments (vit.py), a ViT training config, and the data-hunger
sweep and attention figures of vit_study.py. Areas compose them in their schema.py."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveInt, model_validator

from dl_roadmap.core.params import deep_merge
from dl_roadmap.core.schema import Block, schema_problems
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import AugmentParams, ClassifierConfig


class VitParams(Block):
    """``VisionTransformer`` arguments (vit.py); left out, the class's default applies."""

    image_size: PositiveInt | list[PositiveInt] = None  # S (square) or [H, W]
    patch_size: PositiveInt = None
    in_channels: PositiveInt = None
    dim: PositiveInt = None
    depth: PositiveInt = None
    heads: PositiveInt = None
    mlp_dim: PositiveInt = None
    dropout: float = Field(default=None, ge=0, lt=1)
    classes: PositiveInt = None

    @model_validator(mode="after")
    def _shapes_fit(self) -> VitParams:
        dim, heads = self.dim or 64, self.heads or 4
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be a multiple of heads ({heads}): each head gets dim / heads")
        size, patch = self.image_size or 28, self.patch_size or 7
        sides = [size] if isinstance(size, int) else size
        if len(sides) > 2 or any(side % patch for side in sides):
            raise ValueError(f"patch_size ({patch}) must divide image_size ({size}), one side or [height, width]")
        return self


class VitConfig(ClassifierConfig):
    """A ViT training config (the tune stage's starting point)."""

    model: VitParams


class HungerRun(Block):
    size: PositiveInt | None  # the first `size` training images; null = all
    fit: dict[str, Any] | None = None  # overrides over hunger.fit (epochs for this size...)


class HungerParams(Block):
    """Both models at each size, with the same budget."""

    runs: list[HungerRun] = Field(min_length=1)
    fit: FitParams
    augment: AugmentParams | None = None  # random_affine while training, both models (null = none)
    label_smoothing: float = Field(default=None, ge=0, lt=1)
    threads: PositiveInt | None = None  # torch CPU threads while training (null = the trainer's)

    @model_validator(mode="after")
    def _runs_fit(self) -> HungerParams:
        base = self.fit.model_dump(exclude_unset=True)
        problems = []
        for i, run in enumerate(self.runs):
            problems += schema_problems(FitParams, deep_merge(base, run.fit or {}), f"runs[{i}].fit")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class AttentionParams(Block):
    images: PositiveInt  # test images drawn (one per class, up to this many)
    residual: float = Field(ge=0, lt=1)  # rollout: weight of the identity (the residual path)
