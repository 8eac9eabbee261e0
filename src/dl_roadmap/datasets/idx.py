"""IDX image sets (MNIST and its drop-in relatives): read, write, validate, download.

IDX (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type byte (0x08 =
uint8, the only type these sets use), a byte with the number of dimensions, one
big-endian uint32 per dimension, then the data. Files may be gzip-compressed;
we detect that from the content, since people unpack and rename them freely.

An image set is four files under the keys of ``SPLIT_KEYS``: 28x28 uint8
training and test images and their labels. Each set (``mnist``,
``fashion_mnist``) names its files, URL and checksums and calls the functions
here, so every set is read and checked the same way.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.client
import os
import struct
import urllib.request
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

from dl_roadmap.core.files import atomic_write

SPLIT_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
IMAGE_SHAPE = (28, 28)
LOOKED_FOR = "(looked for each with and without .gz, and with '.idx' for '-idx')"


class IdxFormatError(ValueError):
    """An IDX file, or a set of image/label arrays, is malformed."""


def parse_idx(data: bytes, name: str | os.PathLike) -> np.ndarray:
    """Decode IDX bytes (gzip or not); ``name`` (file or URL) is for messages only."""
    if data[:2] == b"\x1f\x8b":  # gzip magic
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise IdxFormatError(f"{name}: corrupt gzip stream ({exc})") from exc
    if len(data) < 4 or data[:2] != b"\x00\x00":
        found = data[:4].hex(" ") or "nothing"
        raise IdxFormatError(f"{name}: not an IDX file, magic bytes are {found}, expected 00 00 08 <ndim>")
    if data[2] != 0x08:
        raise IdxFormatError(f"{name}: IDX data type 0x{data[2]:02x} is not supported, only 0x08 (uint8)")
    ndim, start = data[3], 4 + 4 * data[3]
    if len(data) < start:
        raise IdxFormatError(f"{name}: truncated header ({ndim} dimensions announced)")
    shape = struct.unpack(f">{ndim}I", data[4:start])
    expected, found = int(np.prod(shape, dtype=np.int64)), len(data) - start
    if found < expected:
        raise IdxFormatError(
            f"{name}: truncated file, expected {expected} data bytes for shape {shape}, found {found}"
        )
    if found > expected:
        raise IdxFormatError(
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
        IdxFormatError: The file is not a valid uint8 IDX file.
    """
    return parse_idx(Path(path).read_bytes(), path)


def write_bytes_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` so that a failure leaves the old file (or none)."""
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
    write_bytes_atomic(path, payload)


def find_idx(folder: str | os.PathLike, files: dict[str, str]) -> dict[str, Path | None]:
    """Locate a set's files in ``folder``.

    Args:
        folder: Folder to look in.
        files: Key -> standard file name without ``.gz``.

    Returns:
        Key -> path, or None when missing. Accepted names: the standard one and
        the dotted variant (``train-images.idx3-ubyte``), each with or without
        ``.gz`` (``.gz`` first).
    """
    found = {}
    for key, stem in files.items():
        dotted = stem.replace("-idx", ".idx")
        paths = [Path(folder) / n for n in (f"{stem}.gz", stem, f"{dotted}.gz", dotted)]
        found[key] = next((p for p in paths if p.is_file()), None)
    return found


def check_image_set(data: dict[str, np.ndarray], names: dict[str, str] | None = None, n_classes: int = 10) -> None:
    """Check image shapes, image/label counts and the label range of a set's arrays.

    Args:
        data: Arrays under the keys of ``SPLIT_KEYS``.
        names: Key -> name for error messages (e.g. file paths); default: the keys.
        n_classes: Labels must lie in ``0..n_classes-1``.

    Raises:
        IdxFormatError: Describing the first problem found.
    """
    names = names or {key: key for key in SPLIT_KEYS}
    height, width = IMAGE_SHAPE
    for split in ("train", "test"):
        img, lab = data[f"{split}_images"], data[f"{split}_labels"]
        img_name, lab_name = names[f"{split}_images"], names[f"{split}_labels"]
        if img.ndim != 3 or img.shape[1:] != IMAGE_SHAPE:
            raise IdxFormatError(f"{img_name}: expected images of shape (N, {height}, {width}), got {img.shape}")
        if lab.ndim != 1:
            raise IdxFormatError(f"{lab_name}: expected labels of shape (N,), got {lab.shape}")
        if len(img) != len(lab):
            raise IdxFormatError(f"{img_name} has {len(img)} images but {lab_name} has {len(lab)} labels")
        bad = np.flatnonzero((lab < 0) | (lab >= n_classes))
        if bad.size:
            raise IdxFormatError(
                f"{lab_name}: label {lab[bad[0]]} at index {bad[0]} is outside 0..{n_classes - 1}"
            )


def load_idx_folder(
    folder: str | os.PathLike, files: dict[str, str], label: str, missing_hint: str = ""
) -> dict[str, np.ndarray]:
    """Load and validate the four IDX files of a set from ``folder``.

    Args:
        folder: Folder with the files (names as in ``find_idx``).
        files: Key -> standard file name without ``.gz``.
        label: Name of the set in messages ("MNIST").
        missing_hint: Appended to the missing-files message (how to get them).

    Returns:
        uint8 arrays ``train_images`` (N, 28, 28), ``train_labels`` (N,),
        ``test_images`` and ``test_labels``.

    Raises:
        FileNotFoundError: Some files are missing (all of them are named).
        IdxFormatError: A file is malformed, or the files are inconsistent.
    """
    paths = find_idx(folder, files)
    missing = [files[key] for key, path in paths.items() if path is None]
    if missing:
        hint = f"; {missing_hint}" if missing_hint else ""
        raise FileNotFoundError(
            f"{label} IDX files missing in {Path(folder).resolve()}: {', '.join(missing)} {LOOKED_FOR}{hint}"
        )
    data = {key: read_idx(path) for key, path in paths.items()}
    check_image_set(data, {key: str(path) for key, path in paths.items()})
    return data


def save_idx_folder(folder: str | os.PathLike, data: dict[str, np.ndarray], files: dict[str, str]) -> None:
    """Validate a set's arrays, then write them as the four standard ``.gz`` files.

    Args:
        folder: Destination folder, created if needed.
        data: uint8 arrays under the keys of ``files``; other keys are ignored.
        files: Key -> standard file name without ``.gz``.
    """
    check_image_set(data)  # before writing anything, so bad data never reaches disk
    for key, stem in files.items():
        write_idx(Path(folder) / f"{stem}.gz", data[key])


def download_idx_files(
    dest_folder: str | os.PathLike,
    files: dict[str, str],
    base_url: str,
    timeout: float = 60,
    md5: dict[str, str] | None = None,
) -> Path:
    """Download a set's ``.gz`` files, keeping those already present and readable.

    Each download is checked (IDX structure, then ``md5`` when given) before it
    is written atomically, so a failure leaves no partial or wrong file behind.

    Args:
        dest_folder: Destination folder, created if needed.
        files: Key -> standard file name without ``.gz``.
        base_url: URL of the folder holding the ``<name>.gz`` files.
        timeout: Socket timeout of each request, in seconds.
        md5: Key -> expected MD5 hex digest of the downloaded ``.gz``.

    Returns:
        ``dest_folder`` as a Path.

    Raises:
        OSError: A download failed.
        IdxFormatError: A downloaded file is invalid, or its checksum differs.
    """
    dest = Path(dest_folder)
    for key, existing in find_idx(dest, files).items():
        if existing is not None:
            try:
                read_idx(existing)
                continue
            except IdxFormatError:
                pass  # a broken local copy: fetch it again
        url = f"{base_url.rstrip('/')}/{files[key]}.gz"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                payload = response.read()
        except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
            raise OSError(f"download of {url} failed: {exc}") from exc
        parse_idx(payload, url)  # raises on truncated or corrupt content
        if md5 and key in md5:
            digest = hashlib.md5(payload).hexdigest()
            if digest != md5[key]:
                raise IdxFormatError(
                    f"{url}: MD5 checksum {digest} differs from the published {md5[key]} "
                    "(not the official file)"
                )
        write_bytes_atomic(dest / f"{files[key]}.gz", payload)
    return dest


def download_cli(
    argv: list[str] | None,
    *,
    prog: str,
    label: str,
    default_dest: str,
    default_url: str,
    download: Callable[..., Path],
    checksums: bool = False,
) -> None:
    """Command line ``download`` for one set (``download`` is the only command).

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).
        prog: Program name shown in the help.
        label: Name of the set in messages.
        default_dest: Folder written when ``--dest`` is not given.
        default_url: Base URL used when ``--url`` is not given.
        download: ``download(dest, url, timeout[, verify=...])`` returning the folder.
        checksums: Offer ``--no-checksum`` and pass ``verify`` to ``download``.
    """
    parser = argparse.ArgumentParser(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("download", help=f"download the four {label} IDX files")
    command.add_argument("--dest", default=default_dest, help="destination folder")
    command.add_argument("--url", default=default_url, help="base URL of the files")
    command.add_argument("--timeout", type=float, default=60, help="seconds per request")
    if checksums:
        command.add_argument(
            "--no-checksum", action="store_true", help="accept files whose MD5 differs from the published one"
        )
    args = parser.parse_args(argv)
    options = {"verify": not args.no_checksum} if checksums else {}
    try:
        folder = download(args.dest, args.url, args.timeout, **options)
    except (OSError, IdxFormatError) as exc:
        parser.exit(1, f"error: {exc}\n")
    print(f"{label} IDX files ready in {folder}")
