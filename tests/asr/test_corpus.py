"""The espeak-ng demo corpus (dl_roadmap.asr.corpus)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dl_roadmap.asr import corpus
from dl_roadmap.asr.corpus import (
    CORPUS_CHARS,
    EspeakNotFoundError,
    generate_sentences,
    grammar_words,
    synthesize_corpus,
)
from dl_roadmap.asr.manifest import read_nemo_manifest
from dl_roadmap.asr.text import character_set


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
