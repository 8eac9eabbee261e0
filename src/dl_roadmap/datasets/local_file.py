"""What the project's file datasets share: one versioned file on the local disk.

Every dataset here writes through ``core.files.atomic_write`` (or a library call that
needs a real path), so they accept local paths only and say so when given another
protocol; subclasses write ``load`` and ``save`` against ``_load_path()``/``_save_path()``.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, TypeVar

import fsspec
from kedro.io.core import AbstractVersionedDataset, DatasetError, Version, get_filepath_str, get_protocol_and_path

_In = TypeVar("_In")
_Out = TypeVar("_Out")


class LocalFileDataset(AbstractVersionedDataset[_In, _Out]):
    """A local file, optionally versioned (``versioned: true`` in the catalog)."""

    def __init__(self, filepath: str, version: Version | None = None, metadata: dict[str, Any] | None = None):
        protocol, path = get_protocol_and_path(filepath, version)
        if protocol != "file":
            raise DatasetError(f"{type(self).__name__} reads and writes local files only, got {filepath}")
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol)
        self.metadata = metadata
        super().__init__(filepath=PurePosixPath(path), version=version, exists_function=self._fs.exists,
                         glob_function=self._fs.glob)

    def _load_path(self) -> str:
        return get_filepath_str(self._get_load_path(), self._protocol)

    def _save_path(self) -> str:
        return get_filepath_str(self._get_save_path(), self._protocol)

    def _exists(self) -> bool:
        try:
            path = self._load_path()
        except DatasetError:  # versioned, and no version saved yet
            return False
        return self._fs.exists(path)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version}
