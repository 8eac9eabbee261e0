"""Tests for dl_roadmap.core.devices: the shared ``trainer`` parameter block."""

from __future__ import annotations

import pytest
import torch

from dl_roadmap.core.devices import (
    TRAINER_DEFAULTS,
    inference_device,
    lightning_trainer_kwargs,
    trainer_config,
)


@pytest.fixture
def not_torchrun(monkeypatch):
    """This process was not launched by torchrun."""
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)


@pytest.fixture
def restore_threads():
    """Put torch's CPU thread count back after a test changes it."""
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


@pytest.mark.parametrize("params", [None, {}])
def test_trainer_config_defaults(params, not_torchrun):
    """No block (or an empty one) gives exactly the documented defaults."""
    assert trainer_config(params) == TRAINER_DEFAULTS


def test_trainer_config_merges_over_defaults_without_changing_them(not_torchrun):
    """Given keys override the defaults, the rest are kept, and the defaults stay untouched."""
    snapshot = dict(TRAINER_DEFAULTS)
    config = trainer_config({"devices": 2, "precision": "bf16-mixed"})
    assert config == {**snapshot, "devices": 2, "precision": "bf16-mixed"}
    config["accelerator"] = "changed"
    assert TRAINER_DEFAULTS == snapshot


def test_unknown_trainer_key_is_a_value_error_naming_it(not_torchrun):
    """A misspelt key (``gpus``) is rejected by name instead of silently ignored."""
    with pytest.raises(ValueError, match="gpus"):
        trainer_config({"gpus": 1})


def test_ddp_strategy_needs_torchrun(monkeypatch, not_torchrun):
    """Plain ``ddp`` would re-run ``kedro run`` per device, so it is refused outside torchrun
    and accepted when torchrun's environment is present; ``ddp_spawn`` is always fine."""
    with pytest.raises(ValueError, match="strategy"):
        trainer_config({"strategy": "ddp"})
    assert trainer_config({"strategy": "ddp_spawn"})["strategy"] == "ddp_spawn"
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "test-run")
    assert trainer_config({"strategy": "ddp"})["strategy"] == "ddp"


def test_lightning_trainer_kwargs_maps_the_block_to_trainer_arguments(not_torchrun):
    """Only Trainer arguments come out; ``progress_bar`` becomes ``enable_progress_bar``;
    several devices under strategy ``auto`` get ``ddp_spawn`` (Lightning would re-launch)."""
    kwargs = lightning_trainer_kwargs({"accelerator": "cpu", "devices": 2, "progress_bar": False})
    assert kwargs == {
        "accelerator": "cpu",
        "devices": 2,
        "num_nodes": 1,
        "precision": "32-true",
        "strategy": "ddp_spawn",
        "enable_progress_bar": False,
    }


def test_num_threads_sets_torch_cpu_threads(restore_threads, not_torchrun):
    """``num_threads`` is applied to torch; null leaves the current setting alone."""
    wanted = 1 if restore_threads != 1 else 2
    lightning_trainer_kwargs({"num_threads": wanted})
    assert torch.get_num_threads() == wanted
    lightning_trainer_kwargs({"num_threads": None})
    assert torch.get_num_threads() == wanted


def test_inference_device_is_cpu_without_cuda(monkeypatch, not_torchrun):
    """Without CUDA, the defaults, ``auto`` and ``cpu`` all evaluate on the CPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert inference_device(None) == torch.device("cpu")
    assert inference_device({"accelerator": "auto"}) == torch.device("cpu")
    assert inference_device({"accelerator": "cpu"}) == torch.device("cpu")


@pytest.mark.parametrize(
    ("accelerator", "cuda_available", "expected"),
    [("auto", True, "cuda"), ("auto", False, "cpu"), ("gpu", True, "cuda"), ("cpu", True, "cpu")],
)
def test_inference_device_follows_the_accelerator(monkeypatch, not_torchrun, accelerator, cuda_available, expected):
    """``auto`` means CUDA when present; an explicit accelerator wins over availability."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_available)
    assert inference_device({"accelerator": accelerator}) == torch.device(expected)


def test_single_device_keeps_strategy_auto(not_torchrun):
    """One device needs no process group: ``auto`` stays ``auto``."""
    assert lightning_trainer_kwargs({"accelerator": "cpu", "devices": 1})["strategy"] == "auto"
    assert lightning_trainer_kwargs({"accelerator": "cpu", "devices": 1, "num_nodes": 2})["strategy"] == "ddp_spawn"
