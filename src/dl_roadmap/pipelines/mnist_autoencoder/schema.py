"""Schema of the ``mnist_autoencoder`` parameter block (conf/base/parameters_mnist_autoencoder.yml),
checked before a run starts (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.compress.schema import CompressParams, variants_train
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.stages.tune.schema import TuneParams, trials_train
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import (
    AugmentParams, AutoencoderModelParams, ClassifierConfig, ClassifierHeadParams, DataParams, DenoisingParams,
)


class Autoencoder(Block):
    model: AutoencoderModelParams
    denoising: DenoisingParams | None = None  # null: a plain autoencoder
    augment: AugmentParams | None = None  # on the clean image; null: none
    fit: FitParams


class CodeClassifiers(Block):
    """Classifiers of the frozen codes: k nearest neighbours and a logistic-regression probe."""

    knn_neighbors: PositiveInt
    probe_max_iter: PositiveInt


class Classifier(ClassifierConfig):
    """The classifier config (``classifier_from_config``): a head on the pretrained encoder,
    or with ``pretrained: false`` on a fresh encoder shaped by ``encoder``."""

    model: ClassifierHeadParams = None
    pretrained: bool = None
    encoder: AutoencoderModelParams = None  # with pretrained: false (default: the autoencoder's shape)


class Report(Block):
    n_images: PositiveInt
    projection: Literal["tsne", "pca"]
    projection_points: int = Field(ge=2)


class MnistAutoencoder(Block):
    data: DataParams
    autoencoder: Autoencoder
    code_classifiers: CodeClassifiers
    classifier: Classifier  # the tune stage's starting point
    report: Report
    tune: TuneParams  # over classifier
    compress: CompressParams  # the tuned classifier's variants
    explain: ExplainParams

    _tune = trials_train("classifier", Classifier)

    _compress = variants_train("classifier", Classifier)


PARAMETERS = MnistAutoencoder
