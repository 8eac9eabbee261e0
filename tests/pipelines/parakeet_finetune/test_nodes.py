"""Unit tests of parakeet_finetune's nodes that need no model: ingest, validation report and
threshold, split, parameter errors, and the before/after summary."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dl_roadmap.asr.audio import write_wav
from dl_roadmap.asr.errors import utterance_table
from dl_roadmap.asr.validation import DataQualityError
from dl_roadmap.pipelines.parakeet_finetune import nodes


@pytest.fixture
def manifest(tmp_path):
    """Six good clips (one at 8 kHz stereo, converted at validation) and two bad rows."""
    rng = np.random.default_rng(0)
    lines = []
    for i in range(6):
        write_wav(tmp_path / f"clip{i}.wav", 0.1 * rng.standard_normal(16000))
        lines.append({"audio_filepath": f"clip{i}.wav", "duration": 99.0, "text": f"Clip number {i + 1}!"})
    import soundfile as sf

    sf.write(tmp_path / "stereo.wav", 0.1 * rng.standard_normal((8000, 2)), 8000)
    lines.append({"audio_filepath": "stereo.wav", "text": "two channels"})
    lines.append({"audio_filepath": "missing.wav", "text": "gone"})
    lines.append({"audio_filepath": "clip0.wav", "text": "   "})
    path = tmp_path / "manifest.json"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def data_params(tmp_path, sources, **extra):
    return {"sources": sources, "audio_dir": str(tmp_path / "converted"), **extra}


def test_ingest_reports_every_bad_row_and_converts_audio(manifest, tmp_path):
    params = data_params(tmp_path, [{"path": str(manifest)}], max_reject_fraction=0.3)
    rows = nodes.read_transcripts(params, demo_corpus={})
    assert rows[0]["text"] == "clip number one", "normalised: lower case, no punctuation, numbers spelled"
    clean, rejects, summary = nodes.validate_transcripts(rows, params, characters=None)
    assert summary["rows_read"] == 9 and summary["rows_clean"] == 7 and summary["rows_rejected"] == 2
    assert sorted(zip(rejects["line"], rejects["field"])) == [(8, "audio_filepath"), (9, "text")]
    assert all(row["duration"] == pytest.approx(1.0) for row in clean[:6]), "measured, not the manifest's 99"
    stereo = next(row for row in clean if row["text"] == "two channels")
    assert stereo["audio_filepath"].startswith(str(tmp_path / "converted")) and stereo["duration"] == pytest.approx(1.0)
    assert nodes.check_rejects(clean, rejects, summary, params) == clean
    with pytest.raises(DataQualityError, match=r"(?s)2 of 9 rows \(22.2%\) were rejected.*manifest.json:8 \[audio_filepath\] file not found"):
        nodes.check_rejects(clean, rejects, summary, {**params, "max_reject_fraction": 0.1})


def test_characters_the_tokenizer_cannot_spell_are_rejected(manifest, tmp_path):
    params = data_params(tmp_path, [{"path": str(manifest)}])
    rows = nodes.read_transcripts(params, demo_corpus={})
    clean, rejects, _ = nodes.validate_transcripts(rows, params, characters=list("abcdefghijklmnopqrstuvwxyz "))
    assert len(clean) == 7
    no_x = [c for c in "abcdefghijklmnopqrstuvwyz "]
    clean, rejects, _ = nodes.validate_transcripts(rows, params, characters=no_x)
    text_problems = rejects[rejects["field"] == "text"].set_index("line")["problem"]
    assert text_problems.index.tolist() == [6, 9], "'clip number six' has an x; line 9 is empty"
    assert "'x'" in text_problems[6]
    assert len(clean) == 6


def test_split_keeps_given_test_rows_and_refuses_empty_splits(manifest, tmp_path):
    params = data_params(tmp_path, [{"path": str(manifest)}], split={"fractions": {"validation": 0.2, "test": 0.2}})
    clean, _, _ = nodes.validate_transcripts(nodes.read_transcripts(params, {}), params, None)
    splits, train, validation, test = nodes.split_transcripts(clean, params)
    assert (len(train), len(validation), len(test)) == (5, 1, 1)
    assert splits["train"] == train and {row["split"] for row in test} == {"test"}
    assert nodes.split_transcripts(clean, params)[0] == splits, "deterministic"
    with pytest.raises(ValueError, match=r"split \['test'\] came out empty"):
        nodes.split_transcripts(clean, {**params, "split": {"fractions": {"validation": 0.2, "test": 0.0}}})


def test_parameter_errors_name_the_key(tmp_path):
    with pytest.raises(ValueError, match="parakeet_finetune.data.sources is empty"):
        nodes.read_transcripts({"sources": []}, {})
    with pytest.raises(ValueError, match=r"parakeet_finetune.data: unknown key\(s\) \['source'\]"):
        nodes.read_transcripts({"source": "x.json"}, {})
    with pytest.raises(ValueError, match="parakeet_finetune.base.tokenizer: 'keep' or 'adapt'"):
        nodes.base_source({"tokenizer": "new"}, {})
    with pytest.raises(ValueError, match="parakeet_base made no model"):
        nodes.base_source({"source": "offline"}, {"nemo": None})
    assert nodes.base_source({"source": "nvidia/parakeet-tdt-0.6b-v2"}, {}) == "nvidia/parakeet-tdt-0.6b-v2"
    assert nodes.base_source({}, {"nemo": "data/06_models/parakeet_base/base.nemo"}).endswith("base.nemo")


def test_summary_compares_base_and_finetuned():
    rows = [{"audio_filepath": f"{i}.wav", "text": text, "duration": 1.0}
            for i, text in enumerate(["move the box left", "pick up the cup"])]
    base = utterance_table(rows, ["move the fox", "pick up a cap"])
    tuned = utterance_table(rows, ["move the box left", "pick up the cap"])
    history = pd.DataFrame({"epoch": [0, 1], "train_loss": [3.0, 2.0], "val_loss": [3.1, 2.2], "val_wer": [0.8, 0.5],
                            "val_word_errors": [3.0, 2.0], "val_words": [4.0, 4.0], "lr": [1e-3, 5e-4]})
    results, counts, metrics, *figures = nodes.summarize_finetuning(
        base, {"rtfx": 100.0, "audio_seconds": 2.0, "inference_seconds": 0.02}, tuned,
        {"rtfx": 120.0, "audio_seconds": 2.0, "inference_seconds": 0.0167}, history, {})
    assert list(results["model"]) == ["base", "fine-tuned"]
    assert results["wer"].tolist() == pytest.approx([4 / 8, 1 / 8])
    assert metrics["base_test_wer"]["value"] == pytest.approx(0.5)
    assert metrics["finetuned_test_wer"]["value"] == pytest.approx(0.125)
    assert counts.to_dict("records") == [{"kind": "substitution", "reference": "cup", "hypothesis": "cap", "count": 1}]
    assert len(figures) == 3
    curve_labels = {line.get_label() for ax in figures[2].axes for line in ax.lines}
    assert not any("word" in label for label in curve_labels), "word counts are not plotted as curves"


def test_start_model_with_an_adapted_tokenizer(tmp_path):
    """tokenizer: adapt trains a tokenizer on the training text and saves the adapted model
    as start.nemo; keep with a .nemo source starts from that file itself."""
    from dl_roadmap.asr.build import build_parakeet
    from dl_roadmap.asr.model_io import restore_nemo, save_nemo
    from dl_roadmap.asr.tokenizer import train_tokenizer

    texts = ["turn the red light on", "open the door", "move the box left", "pick up the cup"] * 3
    tiny = {"n_layers": 1, "d_model": 32, "n_heads": 2, "subsampling_factor": 4, "subsampling_conv_channels": 16,
            "pred_hidden": 32, "joint_hidden": 32}
    base = save_nemo(build_parakeet(tiny, train_tokenizer(texts, tmp_path / "tok", vocab_size=28)), tmp_path / "base.nemo")
    splits = {"train": [{"text": t} for t in ["zebra quiz jumps", "wax vexed judge"] * 4]}
    kept = nodes.prepare_start_model({"source": str(base), "start_dir": str(tmp_path / "start")}, {}, splits)
    assert kept["nemo"] == str(base) and kept["tokenizer"] == "keep" and kept["vocab_size"] == 28
    adapted = nodes.prepare_start_model({"source": str(base), "tokenizer": "adapt", "vocab_size": 26,
                                         "start_dir": str(tmp_path / "start")}, {}, splits)
    assert adapted["nemo"] == str(tmp_path / "start" / "start.nemo") and adapted["vocab_size"] <= 26
    model = restore_nemo(adapted["nemo"])
    assert model.tokenizer.vocab_size == adapted["vocab_size"]
    assert "z" in model.tokenizer.ids_to_text(model.tokenizer.text_to_ids("zebra")), "new text is spelled"
