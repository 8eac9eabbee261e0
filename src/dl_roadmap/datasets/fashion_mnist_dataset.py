"""Kedro dataset for Fashion-MNIST: a folder of IDX files, else Debian's copy.

Catalog usage (conf/base/catalog_image.yml)::

    fashion_mnist_raw:
      type: dl_roadmap.datasets.fashion_mnist_dataset.FashionMnistDataset
      filepath: ${globals:data_root}/01_raw/fashion_mnist
      fallback: debian_fashion_mnist

``load()`` returns the structure MNIST's dataset returns (60k official training
images, 10k test images, ``source``) plus ``class_names``.
"""

from __future__ import annotations

from typing import Any

from dl_roadmap.datasets.fashion_mnist import (
    DEBIAN_SOURCE,
    FASHION_MNIST_CLASSES,
    debian_fashion_mnist_present,
    find_fashion_mnist_idx,
    load_debian_fashion_mnist,
    load_fashion_mnist_idx,
    save_fashion_mnist_idx,
)
from dl_roadmap.datasets.idx_dataset import Fallback, IdxImageDataset


class FashionMnistDataset(IdxImageDataset):
    """Fashion-MNIST from ``filepath`` (four IDX files), else from the ``fallback``.

    ``load()`` returns ``train_images`` (N, 28, 28), ``train_labels`` (N,),
    ``test_images``, ``test_labels`` (all uint8), ``source`` and
    ``class_names`` (label i -> article name). ``save()`` writes the four
    arrays as ``.gz`` IDX files into ``filepath``.
    """

    _find = staticmethod(find_fashion_mnist_idx)
    _load_folder = staticmethod(load_fashion_mnist_idx)
    _save_folder = staticmethod(save_fashion_mnist_idx)
    fallbacks = {
        "debian_fashion_mnist": Fallback(load_debian_fashion_mnist, debian_fashion_mnist_present, DEBIAN_SOURCE),
    }
    class_names = FASHION_MNIST_CLASSES

    def __init__(
        self,
        filepath: str,
        fallback: str | None = "debian_fashion_mnist",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: Folder holding (or receiving) the IDX files, e.g. those
                ``python -m dl_roadmap.datasets.fashion_mnist download`` fetches.
            fallback: ``"debian_fashion_mnist"`` to read the files of Debian's
                package ``dataset-fashion-mnist`` when the folder has none of
                the files, or None to require them.
            metadata: Free-form metadata, ignored by Kedro.
        """
        super().__init__(filepath, fallback, metadata)
