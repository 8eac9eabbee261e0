"""The speech data layer (dl_roadmap.asr): audio, text, manifests, validation, split, demo corpus."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dl_roadmap.asr import corpus
from dl_roadmap.asr.audio import AudioError, is_target_wav, load_audio, resample, write_wav
from dl_roadmap.asr.corpus import (
    CORPUS_CHARS,
    EspeakNotFoundError,
    generate_sentences,
    grammar_words,
    synthesize_corpus,
)
from dl_roadmap.asr.manifest import (
    REJECT_COLUMNS,
    DataQualityError,
    check_reject_threshold,
    normalize_rows,
    read_complete_manifest,
    read_nemo_manifest,
    read_source,
    read_sources,
    read_transcript_table,
    split_rows,
    to_manifest_records,
    validate_rows,
    write_manifest,
)
from dl_roadmap.asr.text import (
    character_set,
    check_text_params,
    normalize_text,
    number_to_words,
    unknown_characters,
)

LETTERS = "abcdefghijklmnopqrstuvwxyz' "


def tone(path: Path, seconds: float = 1.0, rate: int = 16_000, channels: int = 1, freq: float = 440.0) -> Path:
    """A sine WAV (16-bit) of the given length, rate and channel count."""
    t = np.arange(int(round(seconds * rate))) / rate
    wave = 0.5 * np.sin(2 * np.pi * freq * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.stack([wave] * channels, axis=1) if channels > 1 else wave, rate, subtype="PCM_16")
    return path


def peak_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


# --- audio ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [22_050, 44_100])
def test_stereo_audio_becomes_16k_mono_with_its_frequency(tmp_path: Path, rate: int) -> None:
    path = tone(tmp_path / "sine.wav", seconds=1.5, rate=rate, channels=2, freq=1000.0)
    samples = load_audio(path)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - 24_000) <= 1  # 1.5 s at 16 kHz
    assert peak_frequency(samples, 16_000) == pytest.approx(1000.0, abs=2.0)
    assert np.abs(samples[2000:-2000]).max() == pytest.approx(0.5, abs=0.02)  # level kept by the down-mix


def test_resampling_removes_what_16k_cannot_hold() -> None:
    # 10 kHz is above the 8 kHz Nyquist limit of 16 kHz audio: the anti-aliasing filter removes it
    # (over 40 dB down) instead of folding it back to 6 kHz at full level.
    t = np.arange(44_100) / 44_100
    out = resample(np.sin(2 * np.pi * 10_000 * t), 44_100, 16_000)
    assert len(out) == 16_000
    assert np.sqrt(np.mean(out[1000:-1000] ** 2)) < 0.01


def test_audio_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not found.*nothing.wav"):
        load_audio(tmp_path / "nothing.wav")
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"this is not audio" * 50)
    with pytest.raises(AudioError, match="cannot decode.*garbage.wav"):
        load_audio(garbage)


def test_write_wav_is_16_bit_mono(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "sub" / "x.wav", np.full(800, 2.0, dtype=np.float32))
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (16_000, 1, "PCM_16", 800)
    assert is_target_wav(path) and not is_target_wav(tone(tmp_path / "s.wav", rate=22_050))
    assert sf.read(path)[0].max() == pytest.approx(1.0, abs=1e-4)  # clipped, not wrapped


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "words"), [
    (0, "zero"), (13, "thirteen"), (40, "forty"), (99, "ninety nine"), (100, "one hundred"),
    (101, "one hundred one"), (1000, "one thousand"), (20_017, "twenty thousand seventeen"),
    (100_000, "one hundred thousand"),
    (999_999, "nine hundred ninety nine thousand nine hundred ninety nine"),
])
def test_number_to_words(n: int, words: str) -> None:
    assert number_to_words(n) == words


@pytest.mark.parametrize("n", [-1, 1_000_000])
def test_number_to_words_range(n: int) -> None:
    with pytest.raises(ValueError, match="0..999999"):
        number_to_words(n)


@pytest.mark.parametrize(("text", "params", "expected"), [
    ("Hello,  World!", None, "hello world"),
    ("Don't stop 'believing'", None, "don't stop believing"),
    ("It\u2019s here", None, "it's here"),
    ("I have 42 apples", None, "i have forty two apples"),
    ("1,500 people paid $3.50", None, "one thousand five hundred people paid three point five zero"),
    ("the 2nd and the 21st and the 40th", None, "the second and the twenty first and the fortieth"),
    ("agent 007 has 1234567", None, "agent zero zero seven has one two three four five six seven"),
    ("5kg of rock-and-roll", None, "five kg of rock and roll"),
    ("  many \t spaces\n here ", None, "many spaces here"),
    ("Hello, World 7!", {"case": "keep", "punctuation": "keep"}, "Hello, World seven!"),
    ("Hello world", {"case": "upper"}, "HELLO WORLD"),
    ("It's 10 o'clock", {"numbers": "keep"}, "it's 10 o'clock"),
    ("Don't", {"apostrophes": "strip"}, "dont"),
    ("Caf\u00e9 \uff21", None, "caf\u00e9 a"),  # NFKC folds the full-width letter
    ("?!...", None, ""),
])
def test_normalize_text(text: str, params: dict | None, expected: str) -> None:
    assert normalize_text(text, params) == expected


def test_text_params_are_checked() -> None:
    assert check_text_params({"case": "keep"})["numbers"] == "words"
    with pytest.raises(ValueError, match="unknown text normalisation parameter"):
        check_text_params({"lowercase": True})
    with pytest.raises(ValueError, match="case='title'"):
        check_text_params({"case": "title"})


def test_character_set_and_unknown_characters() -> None:
    assert character_set(["ab c", "ca'b"]) == {"a", "b", "c", " ", "'"}
    assert unknown_characters("caf\u00e9 2", LETTERS) == ["2", "\u00e9"]
    assert unknown_characters("fine", LETTERS) == []


# --- reading -----------------------------------------------------------------------------------


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


# --- validation ----------------------------------------------------------------------------------


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


def test_a_manifest_that_must_be_whole_names_its_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    good = json.dumps({"audio_filepath": "a.wav", "text": "hello"})
    path.write_text("\n".join([good, "{not json", json.dumps({"audio_filepath": "b.wav"})]) + "\n")
    with pytest.raises(ValueError, match=r"m.json: 2 unreadable manifest line\(s\); line 2: json: not valid JSON"):
        read_complete_manifest(path)
    path.write_text(good + "\n")
    assert [row["text"] for row in read_complete_manifest(path)] == ["hello"]


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


# --- split and write -------------------------------------------------------------------------------


def fake_rows(n: int) -> list[dict]:
    return [{"audio_filepath": f"/audio/{i:03d}.wav", "duration": 1.0, "text": f"row {i}", "source": "m", "line": i}
            for i in range(n)]


def test_split_is_deterministic_and_proportional() -> None:
    rows = fake_rows(100)
    split = split_rows(rows, {"train": 0.8, "validation": 0.1, "test": 0.1}, seed=3)
    assert {k: len(v) for k, v in split.items()} == {"train": 80, "validation": 10, "test": 10}
    names = {k: [r["line"] for r in v] for k, v in split.items()}
    assert sorted(sum(names.values(), [])) == list(range(100))
    assert all(r["split"] == k for k, v in split.items() for r in v)
    shuffled = [rows[i] for i in np.random.default_rng(1).permutation(100)]
    again = split_rows(shuffled, {"validation": 0.1, "test": 0.1}, seed=3)
    assert {k: sorted(r["line"] for r in v) for k, v in again.items()} == {k: sorted(v) for k, v in names.items()}
    other = split_rows(rows, {"validation": 0.1, "test": 0.1}, seed=4)
    assert [r["line"] for r in other["test"]] != names["test"]


def test_split_honours_given_splits() -> None:
    rows = fake_rows(20)
    for row in rows[15:]:
        row["split"] = "test"
    split = split_rows(rows, {"validation": 0.2, "test": 0.3}, seed=0)
    assert [r["line"] for r in split["test"]] == [15, 16, 17, 18, 19]  # given test rows only
    assert len(split["validation"]) == 3 and len(split["train"]) == 12  # 20% of the 15 others
    small = split_rows(fake_rows(4), None)
    assert len(small["validation"]) == 1 and len(small["test"]) == 1  # never empty when asked for
    with pytest.raises(ValueError, match="sum to 1"):
        split_rows(rows, {"train": 0.5, "validation": 0.1})
    with pytest.raises(ValueError, match="unknown split 'holdout'"):
        split_rows([{**rows[0], "split": "holdout"}])


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


# --- demo corpus ---------------------------------------------------------------------------------


def test_domain_b_shares_letters_but_not_all_words_with_domain_a() -> None:
    home, robot = grammar_words("home"), grammar_words("robot")
    assert character_set(robot) <= character_set(home) <= set(CORPUS_CHARS)
    assert 40 <= len(home) <= 60
    assert len(robot - home) >= 15 and len(robot & home) >= 15
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    first = generate_sentences("robot", 50, rng_a, set())
    assert first == generate_sentences("robot", 50, rng_b, set()) and len(set(first)) == 50


def test_missing_espeak_says_how_to_install(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(corpus.shutil, "which", lambda name: None)
    with pytest.raises(EspeakNotFoundError, match="install Debian's espeak-ng \\(make install does it\\)"):
        synthesize_corpus(tmp_path)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs Debian's espeak-ng (make install)")
def test_an_unknown_voice_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="voice 'nope'.*does not exist"):
        corpus.synthesize("hello", tmp_path / "x.wav", "nope", 160, 50, 16_000)
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs Debian's espeak-ng (make install)")
def test_small_corpus_is_16k_mono_speech(tmp_path: Path) -> None:
    params = {"domains": {"domain_a": {"utterances": 4, "test_utterances": 2},
                          "domain_b": {"utterances": 4, "test_utterances": 2}}}
    manifests = synthesize_corpus(tmp_path / "corpus", params)
    assert set(manifests) == {"domain_a", "domain_a_test", "domain_b", "domain_b_test"}
    texts = {}
    for name, manifest in manifests.items():
        records = [json.loads(line) for line in Path(manifest).read_text().splitlines()]
        assert len(records) == (2 if name.endswith("_test") else 4)
        assert all(not Path(r["audio_filepath"]).is_absolute() for r in records)  # portable corpus
        rows = read_nemo_manifest(manifest)
        for record, row in zip(records, rows):
            samples, rate = sf.read(row["audio_filepath"])
            assert rate == 16_000 and samples.ndim == 1
            assert record["duration"] == pytest.approx(len(samples) / rate, abs=1e-3)
            assert 1.0 <= record["duration"] <= 4.0
            # Speech: loud syllables and quiet gaps, not silence or a steady tone.
            frames = np.sqrt(np.mean(samples[: len(samples) // 320 * 320].reshape(-1, 320) ** 2, axis=1))
            assert frames.max() > 0.05 and np.percentile(frames, 10) < 0.2 * frames.max()
            assert set(record["text"]) <= CORPUS_CHARS
        texts[name] = [r["text"] for r in records]
    assert set(texts["domain_b"]).isdisjoint(texts["domain_b_test"])  # held-out sentences are new
    assert all(set(t.split()) <= grammar_words("robot") for t in texts["domain_b"] + texts["domain_b_test"])
    # Same parameters: the corpus is reused, and a forced re-synthesis gives the same audio.
    first_wav = Path(rows[0]["audio_filepath"])
    before = first_wav.read_bytes()
    stamp_time = (tmp_path / "corpus" / "corpus.json").stat().st_mtime_ns
    assert synthesize_corpus(tmp_path / "corpus", params) == manifests
    assert (tmp_path / "corpus" / "corpus.json").stat().st_mtime_ns == stamp_time
    synthesize_corpus(tmp_path / "corpus", params, force=True)
    assert first_wav.read_bytes() == before


def test_writing_an_unvalidated_row_names_it_and_leaves_no_file(tmp_path):
    from dl_roadmap.asr.manifest import write_manifest

    rows = [{"audio_filepath": str(tmp_path / "a.wav"), "text": "hello", "source": "in.json", "line": 3}]
    target = tmp_path / "out" / "manifest.json"
    with pytest.raises(ValueError, match=r"in\.json:3: row lacks \['duration'\]"):
        write_manifest(rows, target)
    assert not target.parent.exists() or not any(target.parent.iterdir()), "no partial or temporary file"
