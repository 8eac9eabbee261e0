"""Schema of the `energy_based` parameter block (conf/base/parameters_energy_based.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.schema import DataParams


class MethodParams(Block):
    """One way of training the RBM: CD-k, our PCD, or scikit-learn's PCD."""

    method: Literal["cd", "pcd", "sklearn_pcd"]
    k: PositiveInt = 1  # Gibbs steps of CD (cd only)


class RbmParams(Block):
    """The RBMs compared: the same size and settings for every method."""

    hidden: PositiveInt
    lr: PositiveFloat
    batch_size: PositiveInt
    epochs: PositiveInt
    seed: NonNegativeInt = 0
    train_rows: PositiveInt | None = None  # the first N binarized training images (null = all)
    monitor_rows: PositiveInt = 1000  # validation images scored every epoch
    threads: PositiveInt = 1
    methods: dict[str, MethodParams] = Field(min_length=1)


class SklearnCheckParams(Block):
    """Our formulas against scikit-learn's on copied weights, and one PCD epoch each."""

    rows: PositiveInt
    hidden: PositiveInt
    lr: PositiveFloat
    batch_size: PositiveInt
    seed: NonNegativeInt = 0
    threads: PositiveInt = 1


class AisParams(Block):
    """Annealed importance sampling: temperatures in [0, .5), [.5, .9), [.9, 1] and runs."""

    betas: list[PositiveInt] = Field(min_length=3, max_length=3)
    runs: int = Field(ge=2)
    seed: NonNegativeInt = 0


class SmallTrainParams(Block):
    method: Literal["cd", "pcd"] = "cd"
    k: PositiveInt = 1
    lr: PositiveFloat
    batch_size: PositiveInt
    epochs: PositiveInt


class ExactCheckParams(Block):
    """A small RBM whose log Z is enumerated exactly, against AIS."""

    hidden: int = Field(ge=1, le=24)
    train_rows: PositiveInt
    train: SmallTrainParams
    betas: list[PositiveInt] = Field(min_length=3, max_length=3)
    runs: int = Field(ge=2)
    seed: NonNegativeInt = 0
    threads: PositiveInt = 1


class FiltersParams(Block):
    model: str
    count: PositiveInt


class ChainsParams(Block):
    model: str
    chains: PositiveInt
    snapshots: list[PositiveInt] = Field(min_length=1)
    seed: NonNegativeInt = 0

    @model_validator(mode="after")
    def _increasing(self) -> ChainsParams:
        if any(b <= a for a, b in zip(self.snapshots, self.snapshots[1:])):
            raise ValueError(f"snapshots must increase, got {self.snapshots}")
        return self


class InpaintingParams(Block):
    models: list[str] = Field(min_length=1)
    images: PositiveInt
    steps: PositiveInt
    average: PositiveInt
    seed: NonNegativeInt = 0

    @model_validator(mode="after")
    def _average_within_steps(self) -> InpaintingParams:
        if self.average > self.steps:
            raise ValueError(f"average ({self.average}) must not exceed steps ({self.steps})")
        return self


class GeneratorParams(Block):
    """The RBM scored on the yardstick and logged as the generator model."""

    model: str
    steps: PositiveInt  # Gibbs steps from random pixels per sample
    n: PositiveInt  # samples scored
    seed: NonNegativeInt = 0
    threads: PositiveInt = 1


class CapacityParams(Block):
    neurons: PositiveInt
    loads: list[PositiveFloat] = Field(min_length=2)
    trials: PositiveInt
    flip_fraction: float = Field(ge=0, lt=0.5)
    threshold: float = Field(gt=0, le=1)


class DemoParams(Block):
    patterns: PositiveInt
    side: PositiveInt
    flip_fraction: float = Field(ge=0, lt=0.5)


class HopfieldParams(Block):
    capacity: CapacityParams
    demo: DemoParams
    seed: NonNegativeInt = 0


class DbnParams(Block):
    """Greedy pretraining on the unlabelled images, then fine-tuning at a label budget."""

    first_layer: str  # one of rbm.methods: the trained RBM that is layer 1
    upper_layers: list[PositiveInt]
    train: SmallTrainParams
    train_rows: PositiveInt | None = None
    val_rows: PositiveInt | None = None  # validation images for early stopping (null = all)
    labels_per_class: PositiveInt
    seeds: list[NonNegativeInt] = Field(min_length=1)
    fit: FitParams
    seed: NonNegativeInt = 0
    threads: PositiveInt = 1


class AreaParameters(Block):
    data: DataParams
    sklearn_check: SklearnCheckParams
    rbm: RbmParams
    ais: AisParams
    exact_check: ExactCheckParams
    filters: FiltersParams
    chains: ChainsParams
    inpainting: InpaintingParams
    generator: GeneratorParams
    hopfield: HopfieldParams
    dbn: DbnParams
    explain: ExplainParams

    @model_validator(mode="after")
    def _models_are_trained(self) -> AreaParameters:
        """Every block that names an RBM names one that rbm.methods trains."""
        known = set(self.rbm.methods)
        named = {"filters.model": [self.filters.model], "chains.model": [self.chains.model],
                 "generator.model": [self.generator.model], "dbn.first_layer": [self.dbn.first_layer],
                 "inpainting.models": self.inpainting.models}
        for key, names in named.items():
            for name in names:
                if name not in known:
                    raise ValueError(f"{key}: {name!r} is not one of rbm.methods {sorted(known)}")
        return self


PARAMETERS = AreaParameters
