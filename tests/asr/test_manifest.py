"""Reading transcript sources into rows and writing NeMo manifests (dl_roadmap.asr.manifest)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dl_roadmap.asr.manifest import (
    read_complete_manifest,
    read_nemo_manifest,
    read_source,
    read_sources,
    read_transcript_table,
    to_manifest_records,
    write_manifest,
)
from tests.asr.samples import tone


def test_nemo_manifest_resolves_relative_paths_against_its_folder(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    absolute = tone(tmp_path / "abs.wav")
    lines = [json.dumps({"audio_filepath": "wavs/a.wav", "duration": 1.0, "text": "hello"}), "",
             json.dumps({"audio_filepath": str(absolute), "duration": 1.0, "text": "there", "split": "test"})]
    (data).mkdir()
    (data / "manifest.json").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(elsewhere)  # resolution must not depend on the working folder
    rows = read_nemo_manifest(data / "manifest.json", split="train")
    assert [(r["audio_filepath"], r["text"], r["line"], r["split"]) for r in rows] == [
        (str(data / "wavs" / "a.wav"), "hello", 1, "train"), (str(absolute), "there", 3, "test")]
    assert rows[0]["source"] == str(data / "manifest.json")


def test_ljspeech_metadata(tmp_path: Path) -> None:
    (tmp_path / "metadata.csv").write_text(
        'LJ001-0001|He said "Hi", 2 times.|He said "Hi", two times.\n'
        "LJ001-0002|Only raw text|\n"
        "\n"
        "broken line without pipes\n", encoding="utf-8")
    rows = read_source(tmp_path)  # a folder means its metadata.csv
    assert rows[0]["audio_filepath"] == str(tmp_path / "wavs" / "LJ001-0001.wav")
    assert rows[0]["text"] == 'He said "Hi", two times.'
    assert rows[1]["text"] == "Only raw text" and rows[1]["line"] == 2
    assert rows[2]["line"] == 4 and rows[2]["error"][0] == "row"
    raw = read_transcript_table(tmp_path / "metadata.csv", ljspeech_text="raw")
    assert raw[0]["text"] == 'He said "Hi", 2 times.'


def test_csv_and_tsv_with_headers(tmp_path: Path) -> None:
    (tmp_path / "clips").mkdir()
    (tmp_path / "train.csv").write_text('file,transcript,split\nclips/a.wav,"hello, world",dev\n'
                                        "clips/b.flac,second,\nshort\n")
    rows = read_source({"path": tmp_path / "train.csv", "split": "train"})
    assert [(r["audio_filepath"], r["text"], r.get("split"), r["line"]) for r in rows[:2]] == [
        (str(tmp_path / "clips" / "a.wav"), "hello, world", "dev", 2),
        (str(tmp_path / "clips" / "b.flac"), "second", "train", 3)]
    assert rows[2]["line"] == 4 and rows[2]["error"] == ("row", "expected at least 2 fields, got 1")
    (tmp_path / "cv.tsv").write_text("client_id\tpath\tsentence\nx\tone.mp3\tA sentence, with comma\n")
    cv = read_sources([{"path": tmp_path / "cv.tsv", "audio_dir": tmp_path / "clips"}])
    assert cv[0]["audio_filepath"] == str(tmp_path / "clips" / "one.mp3")
    assert cv[0]["text"] == "A sentence, with comma"
    (tmp_path / "named.csv").write_text("wav;words\nq.wav;hi\n")
    named = read_transcript_table(tmp_path / "named.csv", delimiter=";", audio_column="wav", text_column="words")
    assert named[0]["text"] == "hi"
    (tmp_path / "odd.csv").write_text("a,b\nc,d\n")
    with pytest.raises(ValueError, match="audio_column and text_column"):
        read_source(tmp_path / "odd.csv")


def test_a_manifest_that_must_be_whole_names_its_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    good = json.dumps({"audio_filepath": "a.wav", "text": "hello"})
    path.write_text("\n".join([good, "{not json", json.dumps({"audio_filepath": "b.wav"})]) + "\n")
    with pytest.raises(ValueError, match=r"m.json: 2 unreadable manifest line\(s\); line 2: json: not valid JSON"):
        read_complete_manifest(path)
    path.write_text(good + "\n")
    assert [row["text"] for row in read_complete_manifest(path)] == ["hello"]


def test_written_manifests_read_back(tmp_path: Path, monkeypatch) -> None:
    tone(tmp_path / "data" / "wavs" / "a.wav")
    rows = [{"audio_filepath": str(tmp_path / "data" / "wavs" / "a.wav"), "duration": np.float32(1.0),
             "text": "a", "source": "x", "line": 1}]
    absolute = write_manifest(rows, tmp_path / "data" / "abs.json")
    assert json.loads(absolute.read_text()) == {"audio_filepath": rows[0]["audio_filepath"], "duration": 1.0,
                                                "text": "a"}
    assert to_manifest_records(rows, relative_to=tmp_path)[0]["audio_filepath"] == "data/wavs/a.wav"
    # Project-relative paths read back from the project root although the manifest is deeper.
    monkeypatch.chdir(tmp_path)
    write_manifest(rows, tmp_path / "data" / "manifests" / "rel.json", relative_to=tmp_path)
    back = read_nemo_manifest(tmp_path / "data" / "manifests" / "rel.json")
    assert back[0]["audio_filepath"] == rows[0]["audio_filepath"]
    assert not list((tmp_path / "data").glob("**/*.tmp-*"))


def test_writing_an_unvalidated_row_names_it_and_leaves_no_file(tmp_path):
    from dl_roadmap.asr.manifest import write_manifest

    rows = [{"audio_filepath": str(tmp_path / "a.wav"), "text": "hello", "source": "in.json", "line": 3}]
    target = tmp_path / "out" / "manifest.json"
    with pytest.raises(ValueError, match=r"in\.json:3: row lacks \['duration'\]"):
        write_manifest(rows, target)
    assert not target.parent.exists() or not any(target.parent.iterdir()), "no partial or temporary file"
