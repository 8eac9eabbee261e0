"""Schemas of the spiking networks' parameter blocks (image/snn.py), shared by the spiking
areas' ``schema.py`` files."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams


class SnnModelParams(Block):
    """``image.snn.SpikingNet`` arguments."""

    in_channels: PositiveInt = 1
    size: PositiveInt = 28
    conv: list[PositiveInt] = []       # conv block widths (empty: the fully connected SNN)
    kernel: PositiveInt = 3
    hidden: list[PositiveInt] = []     # dense LIF layers before the readout
    classes: PositiveInt = 10
    coding: Literal["rate", "latency", "direct", "events"] = "direct"
    steps: PositiveInt = 8             # T (an event stream brings its own)
    beta: float = Field(default=0.9, ge=0, le=1)
    threshold: PositiveFloat = 1.0
    alpha: PositiveFloat = 2.0         # surrogate slope
    seed: NonNegativeInt = 0           # rate coding's generator at evaluation


class SnnConfig(Block):
    """An SNN and how to train it (core.training.fit)."""

    model: SnnModelParams
    fit: FitParams
    threads: PositiveInt | None = None  # torch CPU threads while training (null = the trainer block's)


class EnergyParams(Block):
    """Energy per operation in pJ (Horowitz 2014, 45 nm: 32-bit float add 0.9, multiply 3.7)."""

    add_pj: PositiveFloat
    mult_pj: PositiveFloat


class EvaluateParams(Block):
    """Operation counts and the energy estimate of a trained SNN."""

    ops_samples: PositiveInt           # test samples over which operations and spike rates are counted
    energy: EnergyParams
