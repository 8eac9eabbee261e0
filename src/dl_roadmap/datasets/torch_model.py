"""A Kedro dataset for whole PyTorch modules (architecture + weights) in one file.

Saving writes to a temporary file and renames it, so an interrupted save never
leaves a broken model where a good one was; ``versioned: true`` keeps every run's model.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import fsspec
import torch
from kedro.io.core import AbstractVersionedDataset, DatasetError, Version, get_filepath_str, get_protocol_and_path

from dl_roadmap.core.files import atomic_write


class TorchModelDataset(AbstractVersionedDataset[torch.nn.Module, torch.nn.Module]):
    """``torch.save(model)`` / ``torch.load(..., weights_only=False)`` on a local file.

    Loading unpickles the module's class by its import path, so the project must be
    installed where the model is loaded (the MLflow model bundles what serving needs).
    """

    def __init__(self, filepath: str, version: Version | None = None, metadata: dict[str, Any] | None = None):
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol)
        self.metadata = metadata
        super().__init__(filepath=PurePosixPath(path), version=version, exists_function=self._fs.exists,
                         glob_function=self._fs.glob)

    def load(self) -> torch.nn.Module:
        path = get_filepath_str(self._get_load_path(), self._protocol)
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except Exception as error:  # corrupt or foreign file: say which one
            raise DatasetError(f"could not load a PyTorch model from {path}: {error}") from error

    def save(self, data: torch.nn.Module) -> None:
        if not isinstance(data, torch.nn.Module):
            raise DatasetError(f"TorchModelDataset saves torch.nn.Module objects, got {type(data).__name__}")
        path = get_filepath_str(self._get_save_path(), self._protocol)
        with atomic_write(path) as tmp:
            torch.save(data, tmp)

    def _exists(self) -> bool:
        try:
            path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(path)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version}
