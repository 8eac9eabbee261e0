"""The tiny Parakeet-architecture model the ASR tests build (seconds on a CPU)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dl_roadmap.asr.model import build_parakeet

TINY = {"n_layers": 1, "d_model": 32, "n_heads": 2, "subsampling_factor": 4, "subsampling_conv_channels": 16,
        "pred_hidden": 32, "joint_hidden": 32, "dropout": 0.0, "dither": 0.0}


def tiny_models(tokenizer_dir: str | Path, **settings: Any) -> Callable[[str], nn.Module]:
    """``get(kind)``: a tiny model with that head (TINY plus ``settings``), built from seed 0
    on first use and cached, in training mode as build_parakeet returns it."""
    built: dict[str, nn.Module] = {}

    def get(kind: str) -> nn.Module:
        if kind not in built:
            torch.manual_seed(0)
            built[kind] = build_parakeet({**TINY, **settings, "decoder": kind}, tokenizer_dir)
        return built[kind]

    return get
