"""What the compress stage measures for every variant: size on disk, CPU latency, model facts.

Size is the byte count of ``torch.save(model)``, the file TorchModelDataset writes.
Latency is the median wall time of repeated forward passes on CPU after a warm-up, with
torch's thread count fixed for the measurement, so variants are timed alike. Inputs are
the task's own (a tuple of tensors: the model is called as ``model(*inputs)``), cycled
along their first axis to each batch size, or as the task gives them (``"example"``).
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import mlflow
import torch
from torch import nn
from torch.utils.data import Dataset

from dl_roadmap.core.stages.task import inputs_of


def saved_bytes(model: nn.Module) -> bytes:
    """The whole module as ``torch.save`` writes it."""
    buffer = io.BytesIO()
    torch.save(model, buffer)
    return buffer.getvalue()


@contextmanager
def saved_file(model: nn.Module, name: str) -> Iterator[Path]:
    """``torch.save(model)`` to a temporary ``<name>.pt``, removed on exit. Its size is the
    catalog file's to a few bytes (the archive inside a torch.save file is named after it)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.pt"
        torch.save(model, path)
        yield path


def load_file(path: Path) -> nn.Module:
    """A whole saved module, on CPU in eval mode, loaded as TorchModelDataset loads it."""
    return torch.load(path, map_location="cpu", weights_only=False).eval()


def log_model_file(path: Path, artifact_path: str = "compress/models") -> None:
    """Log a saved model file to the active MLflow run (a no-op outside a tracked run)."""
    if mlflow.active_run() is not None:
        mlflow.log_artifact(str(path), artifact_path)


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run with a fixed number of torch CPU threads, then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def example_batch(dataset: Dataset, size: int) -> torch.Tensor:
    """``size`` real inputs from ``dataset``, cycling through it when it is smaller."""
    inputs = inputs_of(dataset, limit=size)
    if len(inputs) < size:
        repeats = -(-size // len(inputs))
        inputs = inputs.repeat(repeats, *[1] * (inputs.dim() - 1))[:size]
    return inputs


def cycled(inputs: tuple[torch.Tensor, ...], size: int) -> tuple[torch.Tensor, ...]:
    """Each tensor's first ``size`` rows, repeating its rows when it has fewer."""
    batch = []
    for tensor in inputs:
        if tensor.dim() == 0 or len(tensor) == 0:
            raise ValueError(f"example inputs: a tensor of shape {tuple(tensor.shape)} has no rows to batch")
        if len(tensor) < size:
            tensor = tensor.repeat(-(-size // len(tensor)), *[1] * (tensor.dim() - 1))
        batch.append(tensor[:size])
    return tuple(batch)


def as_inputs(inputs: Any) -> tuple[torch.Tensor, ...]:
    """A tensor or a sequence of tensors as the positional arguments of a model call."""
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


@torch.inference_mode()
def latency_ms(
    model: nn.Module, inputs: torch.Tensor | tuple[torch.Tensor, ...], repeats: int, warmup: int, threads: int
) -> float:
    """Median milliseconds of ``model(*inputs)`` on CPU over ``repeats`` timed runs."""
    model = model.eval()
    inputs = as_inputs(inputs)
    with torch_threads(threads):
        for _ in range(warmup):  # first calls allocate, pack weights, optimise TorchScript graphs
            model(*inputs)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            model(*inputs)
            times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def parameter_count(model: nn.Module) -> int:
    """Parameters of a float model (quantized modules keep theirs in packed form: 0 here)."""
    return sum(p.numel() for p in model.parameters())


def width_for_parameter_count(target: int, build: Callable[[int], nn.Module]) -> int:
    """The width ``w`` whose ``build(w)`` has the parameter count nearest ``target``, for
    models whose count is linear in ``w`` (a hidden layer's width): two probes solve it."""
    one, two = (parameter_count(build(width)) for width in (1, 2))
    return max(1, round(1 + (target - one) / (two - one)))


def linear_units(model: nn.Module) -> int:
    """Output units summed over the float Linear layers."""
    return sum(m.out_features for m in model.modules() if isinstance(m, nn.Linear))


def conv_channels(model: nn.Module) -> int:
    """Output channels summed over the float convolution layers."""
    return sum(m.out_channels for m in model.modules() if isinstance(m, nn.modules.conv._ConvNd))
