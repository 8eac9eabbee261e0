"""Schema of the `vision_transformers` parameter block (conf/base/parameters_vision_transformers.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from pydantic import PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.compress.schema import CompressParams, variants_train
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.stages.tune.schema import TuneParams, trials_train
from dl_roadmap.image.schema import CnnParams, DataParams
from dl_roadmap.image.vit_schema import AttentionParams, HungerParams, VitConfig, VitParams


class SubsetParams(Block):
    """Over ``data``: the smaller MNIST splits the shared stages train and score on."""

    train_limit: PositiveInt | None = None
    test_limit: PositiveInt | None = None


class VisionTransformers(Block):
    data: DataParams
    stages_data: SubsetParams
    vit: VitParams
    cnn: CnnParams  # its hidden width is set to match the ViT's parameter count
    hunger: HungerParams
    attention: AttentionParams
    tuning: VitConfig
    tune: TuneParams
    compress: CompressParams
    explain: ExplainParams

    _tune = trials_train("tuning", VitConfig)
    _compress = variants_train("tuning", VitConfig)


PARAMETERS = VisionTransformers
