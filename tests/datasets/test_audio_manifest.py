"""Tests for AudioManifestDataset (JSON-lines manifests <-> list of dict rows)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from kedro.io import DataCatalog, DatasetError, Version

from dl_roadmap.datasets.audio_manifest import AudioManifestDataset

ROWS = [
    {"audio_filepath": "/data/a.wav", "duration": 1.25, "text": "hello there"},
    {"audio_filepath": "wavs/b.wav", "duration": 2.0, "text": "caf\u00e9 don't", "split": "test"},
]


def test_round_trip_writes_one_json_object_per_line(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "manifest.json"
    dataset = AudioManifestDataset(filepath=str(path))
    assert not dataset.exists()
    dataset.save(ROWS)
    assert dataset.exists()
    assert dataset.load() == ROWS
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == ROWS
    assert "caf\u00e9" in lines[1]  # readable UTF-8, as NeMo expects, not \u escapes


def test_numpy_values_and_paths_are_written_as_json(tmp_path: Path) -> None:
    dataset = AudioManifestDataset(filepath=str(tmp_path / "m.json"))
    dataset.save([{"audio_filepath": tmp_path / "x.wav", "duration": np.float32(0.5), "n": np.int64(3)}])
    assert dataset.load() == [{"audio_filepath": str(tmp_path / "x.wav"), "duration": 0.5, "n": 3}]


def test_empty_manifest_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    dataset = AudioManifestDataset(filepath=str(path))
    dataset.save([])
    assert path.read_text() == "" and dataset.load() == []
    path.write_text("\n" + json.dumps(ROWS[0]) + "\n\n")
    assert dataset.load() == [ROWS[0]]


@pytest.mark.parametrize(("line", "message"), [
    ('{"audio_filepath": "a.wav", "text": ', "line 3: not valid JSON"),
    ("[1, 2]", "line 3: expected a JSON object, got list"),
])
def test_a_broken_line_names_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(ROWS[0]) + "\n" + json.dumps(ROWS[1]) + "\n" + line + "\n")
    with pytest.raises(DatasetError, match="broken.json") as error:
        AudioManifestDataset(filepath=str(path)).load()
    assert message in str(error.value)


def test_failed_save_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    dataset = AudioManifestDataset(filepath=str(path))
    dataset.save(ROWS)
    before = path.read_bytes()
    with pytest.raises(DatasetError, match="could not write the manifest"):
        dataset.save([{"audio_filepath": "a.wav", "bad": object()}])
    with pytest.raises(DatasetError, match="list of dicts"):
        dataset.save({"audio_filepath": "a.wav"})
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_versioned_and_from_the_catalog(tmp_path: Path) -> None:
    catalog = DataCatalog.from_config({"manifest": {
        "type": "dl_roadmap.datasets.audio_manifest.AudioManifestDataset",
        "filepath": str(tmp_path / "manifest.json"), "versioned": True}})
    catalog.save("manifest", ROWS[:1])
    assert catalog.load("manifest") == ROWS[:1]
    assert len(list((tmp_path / "manifest.json").iterdir())) == 1  # one version folder
    pinned = AudioManifestDataset(filepath=str(tmp_path / "v.json"), version=Version(None, "2026-01-01T00.00.00.000Z"))
    pinned.save(ROWS)
    assert (tmp_path / "v.json" / "2026-01-01T00.00.00.000Z" / "v.json").is_file()
