"""The tiny Parakeet-architecture models the ASR tests build (seconds on a CPU), and a
batch and a training check for them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dl_roadmap.asr.build import build_parakeet
from dl_roadmap.asr.step import asr_step
from tests.asr.samples import BATCH_TEXTS

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


def make_batch(model, seconds=(1.0, 0.7), seed=0):
    """Noise audio with two transcripts, padded as NeMo's collate function pads them."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([int(16000 * s) for s in seconds])
    signal = 0.1 * torch.randn(len(seconds), int(lengths.max()), generator=gen)
    ids = [model.tokenizer.text_to_ids(text) for text in BATCH_TEXTS[: len(seconds)]]
    tokens = torch.zeros(len(ids), max(map(len, ids)), dtype=torch.long)
    for row, token_ids in enumerate(ids):
        tokens[row, : len(token_ids)] = torch.tensor(token_ids)
    return signal, lengths, tokens, torch.tensor([len(t) for t in ids])


def assert_trains(model, batch):
    """A training-mode step gives a finite positive loss and finite, non-zero gradients."""
    model.train()
    model.zero_grad()
    out = asr_step(model, batch)
    loss = out["loss"]
    assert loss.ndim == 0 and torch.isfinite(loss) and loss > 0
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
    model.zero_grad()
    return out
