"""A Kedro dataset for whole PyTorch modules (architecture + weights) in one file.

Saving writes to a temporary file and renames it, so an interrupted save never
leaves a broken model where a good one was; ``versioned: true`` keeps every run's model.
"""

from __future__ import annotations

import torch
from kedro.io.core import DatasetError

from dl_roadmap.core.files import atomic_write
from dl_roadmap.datasets.local_file import LocalFileDataset


class TorchModelDataset(LocalFileDataset[torch.nn.Module, torch.nn.Module]):
    """``torch.save(model)`` / ``torch.load(..., weights_only=False)`` on a local file.

    Loading unpickles the module's class by its import path, so the project must be
    installed where the model is loaded (the MLflow model bundles what serving needs).
    """

    def load(self) -> torch.nn.Module:
        path = self._load_path()
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except Exception as error:  # corrupt or foreign file: say which one
            raise DatasetError(f"could not load a PyTorch model from {path}: {error}") from error

    def save(self, data: torch.nn.Module) -> None:
        if not isinstance(data, torch.nn.Module):
            raise DatasetError(f"TorchModelDataset saves torch.nn.Module objects, got {type(data).__name__}")
        path = self._save_path()
        with atomic_write(path) as tmp:
            torch.save(data, tmp)
