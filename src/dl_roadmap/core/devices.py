"""The ``trainer`` parameter block: where and how training runs.

Every pipeline reads one block (conf/base/parameters.yml); ``--env gpu`` overrides it and
nothing else. Keys follow Lightning's Trainer so its documentation applies as is::

    trainer:
      accelerator: auto      # cpu | gpu | auto (CUDA when present)
      devices: 1             # int, list of GPU ids, or "auto"
      num_nodes: 1
      precision: 32-true     # bf16-mixed on recent GPUs
      strategy: auto         # ddp_spawn for several processes inside a Kedro node
      num_threads: null      # CPU threads for torch (null = torch's default)
      progress_bar: true
      data_root: data        # where a run writes checkpoints and study files (globals.yml)
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

import torch
from pydantic import Field

from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.schema import Block


class TrainerParams(Block):
    """Schema of the ``trainer`` block (checked before a run starts; see core/schema.py)."""

    accelerator: Literal["auto", "cpu", "gpu", "cuda", "mps"] = "auto"
    devices: Annotated[int, Field(ge=1)] | list[int] | Literal["auto"] = 1
    num_nodes: int = Field(default=1, ge=1)
    precision: Literal[
        "32-true", "32", "16-mixed", "16-true", "bf16-mixed", "bf16-true", "64-true", "64", "transformer-engine"
    ] = "32-true"
    strategy: str = "auto"
    num_threads: int | None = Field(default=None, ge=1)
    progress_bar: bool = True
    # Each run environment writes under its own root (conf/<env>/globals.yml), so a test run
    # never resumes a full run's checkpoints or Optuna study.
    data_root: str = Field(default="data", min_length=1)


TRAINER_DEFAULTS: dict[str, Any] = TrainerParams().model_dump()

# Lightning's plain "ddp" launches by re-running sys.argv in new processes, i.e. a second
# `kedro run` per device. Inside a Kedro node the launcher must start workers itself.
_RELAUNCHING_STRATEGIES = {"ddp", "ddp_find_unused_parameters_true", "ddp_find_unused_parameters_false"}


def trainer_config(params: dict[str, Any] | None) -> dict[str, Any]:
    """Merge a ``trainer`` block over the defaults and check its keys.

    Raises:
        ValueError: naming an unknown key, or the ``ddp`` strategy outside torchrun.
    """
    config = over_defaults(params, TRAINER_DEFAULTS, "trainer")
    if config["strategy"] in _RELAUNCHING_STRATEGIES and not _launched_by_torchrun():
        raise ValueError(
            "trainer.strategy: 'ddp' re-runs the command line once per device, which "
            "does not work inside a Kedro node; use 'ddp_spawn' (or launch `kedro run` "
            "with torchrun, which sets the environment 'ddp' expects)"
        )
    return config


def lightning_trainer_kwargs(params: dict[str, Any] | None) -> dict[str, Any]:
    """Arguments for ``lightning.pytorch.Trainer`` from a trainer block."""
    config = trainer_config(params)
    if config["num_threads"]:
        torch.set_num_threads(int(config["num_threads"]))
    strategy = config["strategy"]
    if strategy == "auto" and _several_processes(config) and not _launched_by_torchrun():
        # Lightning's "auto" would pick the re-launching "ddp" for several devices.
        strategy = "ddp_spawn"
    return {
        "accelerator": config["accelerator"],
        "devices": config["devices"],
        "num_nodes": config["num_nodes"],
        "precision": config["precision"],
        "strategy": strategy,
        "enable_progress_bar": bool(config["progress_bar"]),
    }


def inference_device(params: dict[str, Any] | None) -> torch.device:
    """The single device that evaluation and embedding code should use."""
    accelerator = trainer_config(params)["accelerator"]
    if accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def _several_processes(config: dict[str, Any]) -> bool:
    devices = config["devices"]
    if isinstance(devices, (list, tuple)):
        many_devices = len(devices) > 1
    else:  # an int, or a string such as "2" or "-1" (-1 = every device)
        many_devices = str(devices).lstrip("-").isdigit() and (int(devices) > 1 or int(devices) == -1)
    return many_devices or int(config["num_nodes"]) > 1


def _launched_by_torchrun() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ
