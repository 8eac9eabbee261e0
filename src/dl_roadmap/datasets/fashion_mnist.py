"""Fashion-MNIST: Zalando's 28x28 article images, a drop-in replacement for MNIST.

Same IDX files, names, shapes and 60k train / 10k test split as MNIST, read and
checked by the same code (``idx``). Offline default: the copy that Debian's
package ``dataset-fashion-mnist`` installs under ``/usr/share/datasets/fashion-mnist``
(``make system-deps`` installs it). Debian recompressed the ``.gz`` files, so
their MD5 differs from the published one while the IDX content is the same;
checksums are therefore checked on downloads only.

CLI: ``python -m dl_roadmap.datasets.fashion_mnist download [--dest DIR] [--url URL] [--no-checksum]``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dl_roadmap.datasets.idx import (
    download_cli,
    download_idx_files,
    find_idx,
    load_idx_folder,
    save_idx_folder,
)

# The official direct links (zalandoresearch/fashion-mnist README, "Get the data");
# the S3 website endpoint serves plain HTTP only, so the published MD5 guards the content.
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_MNIST_FILES = {  # same standard names as MNIST: output key -> file name (without .gz)
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
FASHION_MNIST_MD5 = {  # published MD5 of each official .gz file
    "train_images": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train_labels": "25c81989df183df01b3e8a0aad5dffbe",
    "test_images": "bef4ecab320f06d8554ea6380940ec79",
    "test_labels": "bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_MNIST_CLASSES = (  # label i -> name
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_SOURCE = f"Debian package {DEBIAN_PACKAGE} (offline copy)"
INSTALL_HINT = (
    f"install Debian's package {DEBIAN_PACKAGE} (make system-deps, or "
    f"apt-get install {DEBIAN_PACKAGE})"
)
DOWNLOAD_HINT = "download them with: python -m dl_roadmap.datasets.fashion_mnist download --dest <folder>"


def find_fashion_mnist_idx(folder: str | os.PathLike) -> dict[str, Path | None]:
    """Locate the four Fashion-MNIST files in ``folder`` (names as in ``idx.find_idx``)."""
    return find_idx(folder, FASHION_MNIST_FILES)


def fashion_mnist_idx_present(folder: str | os.PathLike) -> bool:
    """Return True when all four Fashion-MNIST IDX files are in ``folder``."""
    return all(find_fashion_mnist_idx(folder).values())


def load_fashion_mnist_idx(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load and validate the four Fashion-MNIST IDX files of ``folder``.

    Args:
        folder: Folder with the files, ``.gz`` or not.

    Returns:
        uint8 arrays ``train_images`` (N, 28, 28), ``train_labels`` (N,) in 0..9,
        ``test_images`` and ``test_labels``; label i is ``FASHION_MNIST_CLASSES[i]``.

    Raises:
        FileNotFoundError: Some files are missing (all of them are named).
        IdxFormatError: A file is malformed, or the files are inconsistent.
    """
    return load_idx_folder(folder, FASHION_MNIST_FILES, "Fashion-MNIST", DOWNLOAD_HINT)


def debian_fashion_mnist_present() -> bool:
    """Return True when the Debian package's four files are installed."""
    return fashion_mnist_idx_present(DEBIAN_FASHION_MNIST_DIR)


def load_debian_fashion_mnist() -> dict[str, np.ndarray]:
    """Load Fashion-MNIST from the files of Debian's ``dataset-fashion-mnist``.

    Returns:
        The same keys, shapes and dtypes as ``load_fashion_mnist_idx``
        (60k train / 10k test, the official split).

    Raises:
        FileNotFoundError: The package is not (fully) installed; the message says
            which files are missing and how to install it.
        IdxFormatError: An installed file is damaged.
    """
    return load_idx_folder(DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_FILES, "Fashion-MNIST", INSTALL_HINT)


def save_fashion_mnist_idx(folder: str | os.PathLike, data: dict[str, np.ndarray]) -> None:
    """Validate Fashion-MNIST arrays, then write them as the four standard ``.gz`` files.

    Args:
        folder: Destination folder, created if needed.
        data: uint8 arrays under the keys of ``FASHION_MNIST_FILES``; other keys are ignored.
    """
    save_idx_folder(folder, data, FASHION_MNIST_FILES)


def download_fashion_mnist_idx(
    dest_folder: str | os.PathLike,
    base_url: str = FASHION_MNIST_URL,
    timeout: float = 60,
    verify: bool = True,
) -> Path:
    """Download the four official ``.gz`` files, keeping those already present and valid.

    Each download is checked (IDX structure, and the published MD5 when
    ``verify``) before it is written atomically.

    Args:
        dest_folder: Destination folder, created if needed.
        base_url: URL of the folder holding the standard ``*.gz`` names (a mirror
            of the official files passes the checksum check too).
        timeout: Socket timeout of each request, in seconds.
        verify: Check each download against ``FASHION_MNIST_MD5``.

    Returns:
        ``dest_folder`` as a Path, once ``load_fashion_mnist_idx`` accepts it.

    Raises:
        OSError: A download failed.
        IdxFormatError: A downloaded file is invalid or differs from the official one.
    """
    md5 = FASHION_MNIST_MD5 if verify else None
    dest = download_idx_files(dest_folder, FASHION_MNIST_FILES, base_url, timeout, md5)
    load_fashion_mnist_idx(dest)
    return dest


def main(argv: list[str] | None = None) -> None:
    """Command line entry point (``download`` is the only command)."""
    download_cli(
        argv,
        prog="python -m dl_roadmap.datasets.fashion_mnist",
        label="Fashion-MNIST",
        default_dest="data/01_raw/fashion_mnist",
        default_url=FASHION_MNIST_URL,
        download=download_fashion_mnist_idx,
        checksums=True,
    )


if __name__ == "__main__":
    main()
