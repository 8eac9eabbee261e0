"""Schema of the `generative_gans` parameter block (conf/base/parameters_generative_gans.yml),
checked before a run starts (core/schema.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.image.schema import DataParams


class GanModel(Block):
    z_dim: PositiveInt
    channels: PositiveInt                       # c: the generator's 14x14 and the discriminator's first layer width
    loss: Literal["ns", "wgan_gp"]              # non-saturating GAN or WGAN with gradient penalty
    conditional: bool = False
    batchnorm: bool = True                      # false: no batch norm in G, none in D
    discriminator_norm: Literal["batch", "layer", "none"] | None = None   # null: batch (ns), layer (wgan_gp)
    gp_weight: NonNegativeFloat = 10.0


class GanOptim(Block):
    d_lr: PositiveFloat
    g_lr: PositiveFloat
    betas: tuple[float, float]
    critic_steps: PositiveInt = 1               # discriminator steps per generator step


class GanKind(Block):
    model: GanModel
    optim: GanOptim


class GanFit(Block):
    max_epochs: PositiveInt
    batch_size: PositiveInt
    steps_per_epoch: PositiveInt                # batches per "epoch": how often the yardstick scores
    seed: int = 0
    gradient_clip_val: PositiveFloat | None = None
    early_stopping_patience: None = None
    resume: bool = True


class GanRun(Block):
    kind: Literal["dcgan", "wgan_gp", "cgan"]
    dataset: Literal["mnist", "fashion_mnist"]
    overrides: dict[str, Any] | None = None     # nested keys over the kind's block, e.g. {optim: {d_lr: 2e-3}}


class RingSetting(Block):
    pack: PositiveInt                           # points the discriminator judges at once (1: a plain GAN)


class RingParams(Block):
    modes: PositiveInt
    radius: PositiveFloat
    std: PositiveFloat
    z_dim: PositiveInt
    hidden: PositiveInt
    batch_size: PositiveInt
    lr: PositiveFloat
    betas: tuple[float, float]
    steps: PositiveInt                          # generator steps, one discriminator step each
    snapshot_every: PositiveInt
    samples: PositiveInt
    min_share: float = Field(gt=0, lt=1)
    seed: int = 0
    settings: dict[str, RingSetting]

    @model_validator(mode="after")
    def _packs_divide_the_batch(self) -> RingParams:
        for name, setting in self.settings.items():
            if self.batch_size % setting.pack:
                raise ValueError(f"settings.{name}.pack: {setting.pack} does not divide batch_size {self.batch_size}")
        return self


RUNS = {"dcgan_mnist", "wgan_gp_mnist", "cgan_mnist",
        "dcgan_fashion_mnist", "wgan_gp_fashion_mnist", "cgan_fashion_mnist"}


class AreaParameters(Block):
    data: DataParams
    fit: GanFit
    val_images: PositiveInt                     # validation images the step's losses are averaged over
    samples: PositiveInt                        # samples the yardstick scores (per epoch and at the end)
    grid: PositiveInt = Field(le=10)            # grid x grid samples per GIF frame
    gif_frame_ms: PositiveInt
    kinds: dict[Literal["dcgan", "wgan_gp", "cgan"], GanKind]
    runs: dict[str, GanRun]
    ring: RingParams

    @model_validator(mode="after")
    def _the_pipelines_runs(self) -> AreaParameters:
        if set(self.runs) != RUNS:
            raise ValueError(f"runs: the pipeline trains exactly {sorted(RUNS)}; got {sorted(self.runs)}")
        missing = sorted({run.kind for run in self.runs.values()} - set(self.kinds))
        if missing:
            raise ValueError(f"kinds: no block for {missing}")
        return self


PARAMETERS = AreaParameters
