"""Base Kedro dataset for IDX image sets: a folder of four IDX files, else a fallback.

``MnistDataset`` and ``FashionMnistDataset`` are thin subclasses naming their
folder functions and offline fallbacks. ``load()`` returns the same structure
for every set, which the split code consumes unchanged:

- ``train_images`` (N, 28, 28) uint8 and ``train_labels`` (N,) uint8: the whole
  official training set (60k for both sets), from which a caller holds out
  its own validation images (``split_mnist``: ``val_size``, ``seed``);
- ``test_images`` / ``test_labels``: the official test set (10k);
- ``source``: where the data came from (``idx:<folder>`` or the fallback's name);
- ``class_names`` (label i -> name), only for sets whose labels are not digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable, ClassVar

import numpy as np
from kedro.io import AbstractDataset


@dataclass(frozen=True)
class Fallback:
    """An offline copy used when the dataset's folder holds none of the files."""

    load: Callable[[], dict[str, np.ndarray]]
    available: Callable[[], bool]
    source: str  # the ``source`` value load() reports


class IdxImageDataset(AbstractDataset[dict[str, np.ndarray], dict[str, Any]]):
    """A set's four IDX files in ``filepath``, else the configured ``fallback``.

    Subclasses set ``fallbacks``, ``class_names`` and the set's three folder
    functions (as staticmethods). ``save()`` validates and writes the four ``.gz`` files.
    """

    fallbacks: ClassVar[dict[str, Fallback]] = {}
    class_names: ClassVar[tuple[str, ...] | None] = None
    _find: ClassVar[Callable[[PurePosixPath], dict[str, Path | None]]]  # key -> file or None
    _load_folder: ClassVar[Callable[[PurePosixPath], dict[str, np.ndarray]]]  # validated arrays
    _save_folder: ClassVar[Callable[[PurePosixPath, dict[str, np.ndarray]], None]]  # validates, then writes

    def __init__(self, filepath: str, fallback: str | None, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset.

        Args:
            filepath: Folder holding (or receiving) the IDX files.
            fallback: A key of ``fallbacks``, used when the folder has none of the
                files, or None to require them.
            metadata: Free-form metadata, ignored by Kedro.
        """
        allowed = (*self.fallbacks, None)
        if fallback not in allowed:
            raise ValueError(f"fallback must be one of {allowed}, got {fallback!r}")
        self._filepath = PurePosixPath(filepath)
        self._fallback = fallback
        self.metadata = metadata

    def _use_fallback(self) -> bool:
        # Only an empty/absent folder falls back: a folder with some of the
        # files means the user meant to use theirs, so that is an error.
        return self._fallback is not None and not any(self._find(self._filepath).values())

    def load(self) -> dict[str, Any]:
        """Load the IDX folder, or the fallback when the folder has none of the files."""
        if self._use_fallback():
            fallback = self.fallbacks[self._fallback]
            data = {**fallback.load(), "source": fallback.source}
        else:
            # Raises FileNotFoundError naming the missing files (wrapped by Kedro).
            data = {**self._load_folder(self._filepath), "source": f"idx:{self._filepath}"}
        if self.class_names is not None:
            data["class_names"] = list(self.class_names)
        return data

    def save(self, data: dict[str, np.ndarray]) -> None:
        """Validate ``data``, then write the four ``.gz`` IDX files (other keys are ignored)."""
        self._save_folder(self._filepath, data)

    def _exists(self) -> bool:
        # "Exists" = load() would find data: all files, or none plus an installed fallback.
        found = self._find(self._filepath).values()
        return all(found) or (self._use_fallback() and self.fallbacks[self._fallback].available())

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "fallback": self._fallback}
