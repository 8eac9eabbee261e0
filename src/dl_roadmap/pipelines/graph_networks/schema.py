"""Schema of the `graph_networks` parameter block (conf/base/parameters_graph_networks.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.loop import LoopParams
from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.stages.tune.schema import TuneParams, trials_train

Dataset = Literal["cora", "citeseer"]


class DataParams(Block):
    source: Literal["embedded", "pyg"] = "embedded"  # embedded copy (offline) | PyG's Planetoid downloader
    datasets: list[Dataset] = Field(min_length=1)


class ModelParams(Block):
    """``models.NodeClassifier`` arguments."""

    kind: Literal["gcn", "gat", "mlp"]
    hidden: PositiveInt = 16
    layers: int = Field(default=2, ge=1)
    dropout: float = Field(default=0.5, ge=0, lt=1)
    heads: PositiveInt = 8
    output_heads: PositiveInt = 1
    attention_dropout: float = Field(default=0.6, ge=0, lt=1)
    residual: bool = False


class OptimizerParams(Block):
    lr: PositiveFloat
    weight_decay: float = Field(default=0.0, ge=0)


class TrainingConfig(Block):
    """One node classifier and its full-batch training (core loop block)."""

    model: ModelParams
    optimizer: OptimizerParams
    loop: LoopParams


class TuningConfig(TrainingConfig):
    dataset: Dataset
    seed: NonNegativeInt = 0


class LabelPropagationParams(Block):
    steps: PositiveInt = 50
    alpha: float = Field(default=0.9, gt=0, lt=1)


class BenchmarkParams(Block):
    seeds: list[NonNegativeInt] = Field(min_length=1)
    models: dict[str, TrainingConfig] = Field(min_length=1)
    label_propagation: LabelPropagationParams


class RaceParams(Block):
    dataset: Dataset
    repeats: PositiveInt = 20
    warmup: NonNegativeInt = 3
    threads: PositiveInt = 1


class DepthParams(Block):
    dataset: Dataset
    depths: list[int] = Field(min_length=1)
    residual: list[bool] = Field(min_length=1)
    seeds: list[NonNegativeInt] = Field(min_length=1)
    config: TrainingConfig


class KarateParams(TrainingConfig):
    seed: NonNegativeInt = 0


class EmbeddingParams(Block):
    dataset: Dataset
    methods: list[Literal["gcn", "gat", "mlp"]] = Field(min_length=1)
    method: Literal["tsne", "pca"] = "tsne"


class AttentionParams(Block):
    dataset: Dataset
    node: NonNegativeInt


class NeighbourParams(Block):
    dataset: Dataset  # the explained model's graph
    share: float = Field(default=0.5, gt=0, le=1)  # of each explained node's neighbours cut
    random_draws: PositiveInt = 10
    seed: NonNegativeInt = 0


class AreaParameters(Block):
    data: DataParams
    race: RaceParams
    benchmark: BenchmarkParams
    depth: DepthParams
    karate: KarateParams
    embeddings: EmbeddingParams
    attention: AttentionParams
    model: str = Field(min_length=1)  # "<dataset>_<method>" of the benchmark's seed-0 models: logged and explained
    tuning: TuningConfig
    tune: TuneParams
    explain: ExplainParams
    neighbours: NeighbourParams

    _tune = trials_train("tuning", TuningConfig)


PARAMETERS = AreaParameters
