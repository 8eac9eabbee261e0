"""NeMo's manifest loader, transcription and scoring of a model (dl_roadmap.asr.data,
dl_roadmap.asr.transcribe, dl_roadmap.asr.measure)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dl_roadmap.asr.audio import write_wav
from dl_roadmap.asr.data import make_dataloader
from dl_roadmap.asr.measure import measure
from dl_roadmap.asr.transcribe import transcribe
from tests.asr.samples import BATCH_TEXTS


def test_dataloader_transcribe_and_measure(tdt_model, tmp_path):
    """NeMo's loader reads a manifest with relative paths (plain and duration-bucketed);
    transcribe returns one text per file; measure scores and times them."""
    rng = np.random.default_rng(0)
    rows = []
    for i, seconds in enumerate((0.6, 1.0, 0.8)):
        audio = tmp_path / "wavs" / f"u{i}.wav"
        write_wav(audio, 0.05 * rng.standard_normal(int(16000 * seconds)))
        rows.append({"audio_filepath": f"wavs/u{i}.wav", "duration": seconds, "text": BATCH_TEXTS[i % 2]})
    manifest = tmp_path / "manifest.json"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))

    loader = make_dataloader(tdt_model, manifest, batch_size=2)
    batches = list(loader)
    assert [b[0].shape[0] for b in batches] == [2, 1] and len(loader) == 2
    signal, lengths, tokens, token_lengths = batches[0][:4]
    assert lengths.tolist() == [9600, 16000] and signal.shape == (2, 16000)
    assert tokens[0, : token_lengths[0]].tolist() == tdt_model.tokenizer.text_to_ids(BATCH_TEXTS[0])
    bucketed = make_dataloader(tdt_model, manifest, batch_size=2, bucketing=True)
    assert sorted(int(n) for b in bucketed for n in b[1]) == [9600, 12800, 16000]

    texts = transcribe(tdt_model, manifest)
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    for row in rows:
        row["audio_filepath"] = str(tmp_path / row["audio_filepath"])
    scores = measure(tdt_model, rows, batch_size=2)
    assert scores["hypotheses"] == texts and scores["utterances"] == 3 and scores["words"] == 11
    assert scores["audio_seconds"] == pytest.approx(2.4) and scores["rtfx"] > 0
    assert scores["wer"] >= 0 and scores["cer"] >= 0
