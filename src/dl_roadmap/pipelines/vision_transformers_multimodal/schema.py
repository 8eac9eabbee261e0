"""Schema of the `vision_transformers_multimodal` parameter block
(conf/base/parameters_vision_transformers_multimodal.yml), checked before a run starts."""

from __future__ import annotations

from pydantic import Field, PositiveInt, field_validator, model_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.vit_schema import VitParams
from dl_roadmap.pipelines.vision_transformers_multimodal.pairs import encode


class PairCounts(Block):
    train: PositiveInt
    val: PositiveInt
    test: int = Field(ge=100)  # enough for one test image per caption meaning, mostly


class TextParams(Block):
    """``TextEncoder`` arguments (clip.py)."""

    dim: PositiveInt
    depth: PositiveInt
    heads: PositiveInt
    mlp_dim: PositiveInt

    @model_validator(mode="after")
    def _heads_divide(self) -> TextParams:
        if self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be a multiple of heads ({self.heads})")
        return self


class ProbeParams(Block):
    train_pairs: PositiveInt  # frozen embeddings of this many train pairs fit the probe
    max_iter: PositiveInt


class VisionTransformersMultimodal(Block):
    seed: int = Field(ge=0)
    pairs: PairCounts
    threads: PositiveInt | None = None  # torch CPU threads while training (null = the trainer's)
    image: VitParams  # the image encoder; its head projects to embed_dim
    text: TextParams
    embed_dim: PositiveInt
    fit: FitParams
    zero_shot_template: str
    probe: ProbeParams

    @field_validator("zero_shot_template")
    @classmethod
    def _template_reads(cls, template: str) -> str:
        try:
            encode(template.format(cls="seven", other="two"))
        except (KeyError, IndexError) as error:
            raise ValueError(f"only the fields {{cls}} and {{other}} may appear, got {error}") from None
        return template


PARAMETERS = VisionTransformersMultimodal
