"""A Kedro dataset for JSON-lines audio manifests (NeMo's format), as a list of dict rows.

Rows are kept as plain dicts, not a DataFrame: manifests are read line by line, rows may
differ in their keys, and NeMo reads the file itself, so the written text must stay one JSON
object per line exactly as the rows say. Saving writes a temporary file and renames it, so
an interrupted save never leaves a half-written manifest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from kedro.io.core import DatasetError

from dl_roadmap.core.files import atomic_write
from dl_roadmap.datasets.local_file import LocalFileDataset


def _to_json(value: Any) -> Any:
    """JSON for values json does not know: numpy scalars and paths."""
    if hasattr(value, "item"):  # numpy scalar (e.g. a float32 duration)
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class AudioManifestDataset(LocalFileDataset[list[dict[str, Any]], list[dict[str, Any]]]):
    """A local JSON-lines file <-> ``list[dict]``, one dict per non-blank line.

    Example catalog entry::

        parakeet_train_manifest:
          type: dl_roadmap.datasets.audio_manifest.AudioManifestDataset
          filepath: data/05_model_input/parakeet/train_manifest.json
    """

    def load(self) -> list[dict[str, Any]]:
        path = self._load_path()
        rows = []
        try:
            with open(path, encoding="utf-8-sig") as file:
                for number, line in enumerate(file, start=1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as error:
                        raise DatasetError(f"{path} line {number}: not valid JSON ({error.msg} at column "
                                           f"{error.colno})") from error
                    if not isinstance(row, dict):
                        raise DatasetError(f"{path} line {number}: expected a JSON object, got {type(row).__name__}")
                    rows.append(row)
        except OSError as error:
            raise DatasetError(f"could not read the manifest {path}: {error}") from error
        return rows

    def save(self, data: list[dict[str, Any]]) -> None:
        if isinstance(data, Mapping) or not all(isinstance(row, Mapping) for row in data):
            raise DatasetError(f"AudioManifestDataset saves a list of dicts, got {type(data).__name__} "
                               f"({self._filepath})")
        path = self._save_path()
        try:
            with atomic_write(path) as tmp, open(tmp, "w", encoding="utf-8") as file:
                for row in data:
                    file.write(json.dumps(dict(row), ensure_ascii=False, default=_to_json) + "\n")
        except (TypeError, ValueError) as error:
            raise DatasetError(f"could not write the manifest {path}: {error}") from error
