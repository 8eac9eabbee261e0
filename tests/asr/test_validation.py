"""Row validation, the rejects report and the reject threshold (dl_roadmap.asr.validation)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dl_roadmap.asr.audio import is_target_wav
from dl_roadmap.asr.manifest import read_nemo_manifest
from dl_roadmap.asr.validation import (
    REJECT_COLUMNS,
    DataQualityError,
    check_reject_threshold,
    normalize_rows,
    validate_rows,
)
from tests.asr.samples import LETTERS, tone


@pytest.fixture()
def messy_manifest(tmp_path: Path) -> Path:
    """A manifest with two good rows and one row of every kind of problem."""
    wavs = tmp_path / "wavs"
    tone(wavs / "good.wav", seconds=1.0)
    tone(wavs / "stereo.wav", seconds=0.5, rate=44_100, channels=2)
    (wavs / "garbage.wav").write_bytes(b"\x00\x01garbage" * 100)
    sf.write(wavs / "empty.wav", np.zeros(0), 16_000, subtype="PCM_16")
    tone(wavs / "long.wav", seconds=3.0)
    entries = [
        {"audio_filepath": "wavs/good.wav", "duration": 99.0, "text": "Good, row 1!"},       # 1 good
        {"audio_filepath": "wavs/missing.wav", "duration": 1.0, "text": "missing"},          # 2
        {"audio_filepath": "wavs/garbage.wav", "duration": 1.0, "text": "garbage"},          # 3
        {"audio_filepath": "wavs/empty.wav", "duration": 1.0, "text": "empty"},              # 4
        {"audio_filepath": "wavs/long.wav", "duration": 1.0, "text": "too long"},            # 5
        {"audio_filepath": "wavs/good.wav", "duration": 1.0, "text": ""},                    # 6
        {"audio_filepath": "wavs/good.wav", "duration": 1.0, "text": "?!"},                  # 7
        {"audio_filepath": "wavs/good.wav", "duration": 1.0, "text": "caf\u00e9"},           # 8
        '{"audio_filepath": "wavs/good.wav", "text": ',                                      # 9
        {"audio_filepath": "wavs/good.wav", "duration": 1.0},                                # 10
        {"audio_filepath": 5, "text": "number path"},                                        # 11
        {"audio_filepath": "wavs/stereo.wav", "duration": 1.0, "text": "stereo", "split": "val"},  # 12 good
        {"audio_filepath": "wavs/good.wav", "text": "odd split", "split": "holdout"},          # 13
    ]
    path = tmp_path / "manifest.json"
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in entries))
    return path

EXPECTED_REJECTS = {
    2: ("audio_filepath", "file not found"),
    3: ("audio_filepath", "unreadable audio: cannot decode audio file"),
    4: ("duration", "zero duration"),
    5: ("duration", "3.00 s is longer than max_duration_s=2.5"),
    6: ("text", "empty text"),
    7: ("text", "empty text after normalisation (was '?!')"),
    8: ("text", "characters the tokenizer cannot represent: '\u00e9'"),
    9: ("json", "not valid JSON"),
    10: ("text", "missing field"),
    11: ("audio_filepath", "not a string: 5"),
    13: ("split", "unknown split 'holdout'"),
}


def test_every_bad_row_is_reported_with_its_line(messy_manifest: Path, tmp_path: Path) -> None:
    rows = normalize_rows(read_nemo_manifest(messy_manifest))
    clean, rejects = validate_rows(rows, max_duration_s=2.5, allowed_chars=LETTERS, audio_dir=tmp_path / "audio16k")
    assert list(rejects.columns) == REJECT_COLUMNS
    assert sorted(rejects["line"]) == sorted(EXPECTED_REJECTS)  # one problem each here
    for reject in rejects.itertuples():
        field, problem = EXPECTED_REJECTS[reject.line]
        assert reject.field == field and problem in reject.problem, reject
        assert reject.source == str(messy_manifest)
    assert rejects.set_index("line").loc[2, "audio_filepath"] == str(messy_manifest.parent / "wavs" / "missing.wav")
    # Nothing vanished: every line is either clean or rejected.
    assert sorted([r["line"] for r in clean] + list(rejects["line"])) == list(range(1, 14))
    good, stereo = clean
    assert good == {"audio_filepath": str(messy_manifest.parent / "wavs" / "good.wav"), "duration": 1.0,
                    "text": "good row one", "source": str(messy_manifest), "line": 1}  # measured, not 99
    assert stereo["split"] == "validation" and stereo["duration"] == pytest.approx(0.5)
    converted = Path(stereo["audio_filepath"])
    assert converted.parent == tmp_path / "audio16k" and is_target_wav(converted)
    assert sf.info(converted).frames == 8000


def test_a_row_can_have_several_problems(tmp_path: Path) -> None:
    rows = [{"audio_filepath": str(tmp_path / "no.wav"), "text": "", "source": "s.csv", "line": 7}]
    clean, rejects = validate_rows(rows)
    assert clean == []
    assert list(rejects["field"]) == ["text", "audio_filepath"]
    check_reject_threshold(10, rejects, 0.1)  # one row of ten, not two


def test_threshold_error_names_counts_and_first_reasons(messy_manifest: Path, caplog) -> None:
    rows = normalize_rows(read_nemo_manifest(messy_manifest))
    _, rejects = validate_rows(rows, max_duration_s=2.5, allowed_chars=LETTERS)
    with pytest.raises(DataQualityError) as error:
        check_reject_threshold(len(rows), rejects, max_reject_fraction=0.5, show=3)
    message = str(error.value)
    assert "11 of 13 rows (84.6%) were rejected, more than max_reject_fraction=0.5" in message
    assert f"{messy_manifest}:2 [audio_filepath] file not found" in message
    assert f"{messy_manifest}:4 [duration] zero duration" in message
    assert ":5 [" not in message  # only the first three reasons
    with caplog.at_level(logging.WARNING):
        check_reject_threshold(len(rows), rejects, max_reject_fraction=0.9)
    assert "11 of 13 rows (84.6%) were rejected and left out" in caplog.text
    with pytest.raises(DataQualityError, match="no transcript rows"):
        check_reject_threshold(0, rejects.iloc[:0], 0.5)
