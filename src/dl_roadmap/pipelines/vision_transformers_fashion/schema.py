"""Schema of the `vision_transformers_fashion` parameter block
(conf/base/parameters_vision_transformers_fashion.yml), checked before a run starts."""

from __future__ import annotations

from dl_roadmap.core.schema import Block
from dl_roadmap.image.schema import CnnParams, DataParams
from dl_roadmap.image.vit_schema import AttentionParams, HungerParams, VitParams


class VisionTransformersFashion(Block):
    data: DataParams
    vit: VitParams
    cnn: CnnParams  # its hidden width is set to match the ViT's parameter count
    hunger: HungerParams
    attention: AttentionParams


PARAMETERS = VisionTransformersFashion
