"""Fixtures shared by the ASR tests: tiny models and clips, built once per test module."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest
import torch

from dl_roadmap.asr.audio import write_wav
from dl_roadmap.asr.build import build_parakeet
from dl_roadmap.asr.tokenizer import train_tokenizer
from tests.asr.samples import COMMANDS, HOME, NOISE_SECONDS, ROBOT
from tests.asr.tiny import TINY, tiny_models


@pytest.fixture(scope="session")
def nemo_asr() -> Any:
    """NeMo's ASR collection, imported once (it takes several seconds). NeMo is a dependency
    of the project: a failing import is a failure, not a reason to skip."""
    return importlib.import_module("nemo.collections.asr")


@pytest.fixture(scope="module")
def one_thread():
    """One PyTorch thread: tiny models decode step by step, and hand-offs between threads
    cost more than the work (many times more on a busy machine)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def command_tokenizer(tmp_path_factory):
    """A tokenizer of home and robot commands (48 tokens)."""
    return train_tokenizer(HOME + ROBOT, tmp_path_factory.mktemp("tokenizer"), vocab_size=48)


@pytest.fixture(scope="module")
def tdt_model(nemo_asr, command_tokenizer):
    """One tiny TDT model with SpecAugment, shared by a module's tests (in training mode)."""
    torch.manual_seed(0)
    return build_parakeet({**TINY, "spec_augment": {"time_masks": 1, "freq_masks": 1, "freq_width": 4}},
                          command_tokenizer)


@pytest.fixture(scope="module")
def home_tokenizer(tmp_path_factory):
    """A tokenizer of home commands (40 tokens)."""
    return train_tokenizer(HOME, tmp_path_factory.mktemp("tokenizer"), vocab_size=40)


@pytest.fixture(scope="module")
def model_of(nemo_asr, home_tokenizer):
    """Tiny models by head kind, built once (in training mode, as build_parakeet returns them)."""
    return tiny_models(home_tokenizer)


@pytest.fixture(scope="module")
def noise_rows(tmp_path_factory):
    """Three noise clips with transcripts, as manifest rows with absolute paths."""
    folder = tmp_path_factory.mktemp("wavs")
    rng = np.random.default_rng(0)
    return [{"audio_filepath": str(write_wav(folder / f"u{i}.wav", 0.05 * rng.standard_normal(int(16000 * s)))),
             "duration": s, "text": HOME[i]} for i, s in enumerate(NOISE_SECONDS)]


@pytest.fixture(scope="module")
def command_rows(tmp_path_factory):
    """Six noise clips of 0.4 to 1.4 s with COMMANDS as transcripts, as manifest rows."""
    folder = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(0)
    out = []
    for i, text in enumerate(COMMANDS):
        seconds = 0.4 + 0.2 * i
        path = write_wav(folder / f"{i}.wav", 0.1 * rng.standard_normal(int(16000 * seconds)))
        out.append({"audio_filepath": str(path), "text": text, "duration": seconds})
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A tiny TDT model with a tokenizer of COMMANDS (30 tokens)."""
    tokenizer = train_tokenizer(COMMANDS * 3, tmp_path_factory.mktemp("tok"), vocab_size=30)
    return build_parakeet(TINY, tokenizer)
