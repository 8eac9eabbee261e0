"""Schema of the `architectures` parameter block (conf/base/parameters_architectures.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.compress.schema import CompressParams, variants_train
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.stages.tune.schema import TuneParams, trials_train
from dl_roadmap.image.schema import ClassifierConfig, CnnParams, DataParams


class FashionConfig(ClassifierConfig):
    """A Fashion-MNIST training config: the library's augment, label smoothing and fit, plus
    a horizontal flip."""

    flip: float = Field(default=None, ge=0, le=1)  # share of training images mirrored left-right


class LeNetParams(Block):
    classes: PositiveInt = None


class LeNetConfig(FashionConfig):
    model: LeNetParams | None = None
    threads: PositiveInt | None = None  # torch CPU threads while training (null = the trainer block's)


class ModernConfig(FashionConfig):
    model: CnnParams  # the image library's SmallCNN


class AreaParameters(Block):
    data: DataParams
    lenet: LeNetConfig
    tuning: ModernConfig  # the modern CNN: tune's starting point and its final training
    tune: TuneParams
    compress: CompressParams
    explain: ExplainParams

    _tune = trials_train("tuning", ModernConfig)
    _compress = variants_train("tuning", ModernConfig)


PARAMETERS = AreaParameters
