"""Tests for LocalFileDataset, the base of the project's file datasets."""

from __future__ import annotations

import pytest
from kedro.io.core import DatasetError, Version
from torch import nn

from dl_roadmap.datasets.audio_manifest import AudioManifestDataset
from dl_roadmap.datasets.nemo_model import NemoModelDataset
from dl_roadmap.datasets.torch_model import TorchModelDataset


@pytest.mark.parametrize("dataset_class", [TorchModelDataset, NemoModelDataset, AudioManifestDataset])
def test_a_remote_path_is_refused_naming_the_dataset(dataset_class):
    with pytest.raises(DatasetError, match=f"{dataset_class.__name__} reads and writes local files only"):
        dataset_class(filepath="s3://bucket/model.bin")


def test_a_versioned_file_exists_only_once_saved(tmp_path):
    dataset = TorchModelDataset(filepath=str(tmp_path / "model.pt"), version=Version(None, None))
    assert not dataset.exists(), "no version saved yet"
    dataset.save(nn.Linear(2, 1))
    assert dataset.exists()
    assert dataset._describe()["protocol"] == "file"
    assert isinstance(dataset.load(), nn.Linear)
