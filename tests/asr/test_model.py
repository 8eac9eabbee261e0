"""Tests for the Parakeet model helpers: tokenizer training, every decoder kind, the
training step, encoder freezing, .nemo save/restore, tokenizer adaptation, NeMo data
loaders, transcription and scoring, and the offline error of a pretrained name.

One tiny TDT model (1 FastConformer layer, d_model 32) is shared by most tests; NeMo is
imported once per test session."""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest
import torch

from dl_roadmap.asr.audio import write_wav
from dl_roadmap.asr.model import (
    BaseModelUnavailableError,
    adapt_tokenizer,
    asr_step,
    build_parakeet,
    corpus_wer,
    freeze_encoder,
    load_base,
    make_dataloader,
    measure,
    save_nemo,
    train_tokenizer,
    transcribe,
)
from dl_roadmap.asr.nemo_config import parakeet_config, parakeet_params
from dl_roadmap.asr.tdt_loss import CpuTDTLoss
from tests.asr.tiny import TINY

HOME = ["turn the red light on", "switch off the fan in the kitchen", "set the hall heater to five",
        "don't open the garden door", "dim the blue lamp to three", "the office radio is off"]
ROBOT = ["move the black robot left", "pick up the brown box", "put the cup on the tray",
         "rotate the arm ninety degrees right", "the robot can't reach the ball"]
BATCH_TEXTS = ("turn the light on", "open the door")


# ------------------------------------------------------------------------ no NeMo


def test_train_tokenizer_writes_nemo_layout_deterministically(tmp_path):
    """tokenizer.model, tokenizer.vocab and vocab.txt (NeMo's layout); the same texts give
    the same bytes; every text round-trips through encode/decode unchanged."""
    import sentencepiece as spm

    first = train_tokenizer(HOME, tmp_path / "a", vocab_size=40)
    second = train_tokenizer(HOME, tmp_path / "b", vocab_size=40)
    for name in ("tokenizer.model", "tokenizer.vocab", "vocab.txt"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    processor = spm.SentencePieceProcessor(model_file=str(first / "tokenizer.model"))
    assert 20 < processor.get_piece_size() <= 40
    assert all(processor.decode(processor.encode(text)) == text for text in HOME)
    # vocab.txt: every piece but <unk>, word-initial pieces bare, inner ones with ##.
    vocab = (first / "vocab.txt").read_text().splitlines()
    assert len(vocab) == processor.get_piece_size() - 1 and "<unk>" not in vocab
    pieces = [processor.id_to_piece(i) for i in range(1, processor.get_piece_size())]
    assert vocab == [p[1:] or p if p.startswith("\u2581") else f"##{p}" for p in pieces]


def test_train_tokenizer_refuses_bad_input(tmp_path):
    with pytest.raises(ValueError, match="at least"):
        train_tokenizer(HOME, tmp_path, vocab_size=10)
    with pytest.raises(ValueError, match="no non-empty text"):
        train_tokenizer(["", "  "], tmp_path, vocab_size=40)
    with pytest.raises(ValueError, match="kind"):
        train_tokenizer(HOME, tmp_path, vocab_size=40, kind="wordpiece")


def test_parakeet_params_are_checked_and_config_follows_them():
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['layers'\]"):
        parakeet_params({"layers": 3})
    with pytest.raises(ValueError, match="decoder must be one of"):
        parakeet_params({"decoder": "las"})
    with pytest.raises(ValueError, match="multiple of n_heads"):
        parakeet_params({"d_model": 30, "n_heads": 4})
    cfg = parakeet_config({"decoder": "hybrid_tdt_ctc", "spec_augment": {"time_masks": 5}}, "/tok")
    assert cfg["spec_augment"]["time_masks"] == 5 and cfg["spec_augment"]["freq_masks"] == 2
    assert cfg["joint"]["num_extra_outputs"] == 5 and cfg["loss"]["tdt_kwargs"]["durations"] == [0, 1, 2, 3, 4]
    assert cfg["aux_ctc"]["ctc_loss_weight"] == 0.3
    assert cfg["encoder"]["subsampling"] == "dw_striding" and cfg["encoder"]["subsampling_factor"] == 8
    assert parakeet_config({"spec_augment": None}, "/tok")["spec_augment"] is None
    rnnt = parakeet_config({"decoder": "rnnt"}, "/tok")
    assert rnnt["joint"]["num_extra_outputs"] == 0 and rnnt["loss"]["loss_name"] == "default"
    assert "joint" not in parakeet_config({"decoder": "ctc"}, "/tok")


def test_corpus_wer_is_the_ratio_of_the_per_utterance_means():
    history = pd.DataFrame({"val_word_errors": [1.0, 0.5], "val_words": [4.0, 5.0]})
    assert corpus_wer(history).tolist() == [0.25, 0.1]


# ------------------------------------------------------------------------ NeMo


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    return train_tokenizer(HOME + ROBOT, tmp_path_factory.mktemp("tokenizer"), vocab_size=48)


@pytest.fixture(scope="module")
def tdt_model(nemo_asr, tokenizer_dir):
    torch.manual_seed(0)
    return build_parakeet({**TINY, "spec_augment": {"time_masks": 1, "freq_masks": 1, "freq_width": 4}},
                          tokenizer_dir)


def make_batch(model, seconds=(1.0, 0.7), seed=0):
    """Noise audio with two transcripts, padded as NeMo's collate function pads them."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([int(16000 * s) for s in seconds])
    signal = 0.1 * torch.randn(len(seconds), int(lengths.max()), generator=gen)
    ids = [model.tokenizer.text_to_ids(text) for text in BATCH_TEXTS[: len(seconds)]]
    tokens = torch.zeros(len(ids), max(map(len, ids)), dtype=torch.long)
    for row, token_ids in enumerate(ids):
        tokens[row, : len(token_ids)] = torch.tensor(token_ids)
    return signal, lengths, tokens, torch.tensor([len(t) for t in ids])


def assert_trains(model, batch):
    """A training-mode step gives a finite positive loss and finite, non-zero gradients."""
    model.train()
    model.zero_grad()
    out = asr_step(model, batch)
    loss = out["loss"]
    assert loss.ndim == 0 and torch.isfinite(loss) and loss > 0
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
    model.zero_grad()
    return out


def test_tdt_model_is_a_parakeet(tdt_model, tokenizer_dir):
    """FastConformer encoder as configured, TDT joint with 5 duration outputs, the CPU TDT
    loss with blank = vocabulary size, SpecAugment from the parameters."""
    model = tdt_model
    vocab = model.tokenizer.vocab_size
    assert type(model).__name__ == "EncDecRNNTBPEModel"
    assert len(model.encoder.layers) == 1 and model.encoder.d_model == 32
    assert model.encoder.subsampling_factor == 4 and model.preprocessor.featurizer.nfilt == 80
    assert model.joint.num_extra_outputs == 5 and model.joint.num_classes_with_blank == vocab + 1 + 5
    assert isinstance(model.loss._loss, CpuTDTLoss)
    assert model.loss._loss.blank == vocab and model.loss._loss.durations == [0, 1, 2, 3, 4]
    assert list(model.cfg.decoding.durations) == [0, 1, 2, 3, 4]
    assert model.spec_augmentation is not None and model.cfg.spec_augment.time_masks == 1


@pytest.mark.parametrize("kind", ["tdt", "rnnt", "ctc", "hybrid_tdt_ctc"])
def test_every_decoder_kind_trains_on_cpu(kind, tdt_model, tokenizer_dir):
    """Each Parakeet head builds and gives a finite loss with gradients through asr_step;
    a hybrid mixes its losses with ctc_loss_weight."""
    torch.manual_seed(1)
    model = tdt_model if kind == "tdt" else build_parakeet({**TINY, "decoder": kind}, tokenizer_dir)
    expected = {"tdt": "EncDecRNNTBPEModel", "rnnt": "EncDecRNNTBPEModel", "ctc": "EncDecCTCModelBPE",
                "hybrid_tdt_ctc": "EncDecHybridRNNTCTCBPEModel"}[kind]
    assert type(model).__name__ == expected
    out = assert_trains(model, make_batch(model))
    if kind == "hybrid_tdt_ctc":
        assert isinstance(model.loss._loss, CpuTDTLoss)
        mixed = 0.7 * out["transducer_loss"] + 0.3 * out["ctc_loss"]
        torch.testing.assert_close(out["loss"].detach(), mixed)


def test_asr_step_in_eval_mode_scores_words(tdt_model):
    """Evaluation adds the batch WER and per-utterance word errors and reference words."""
    batch = make_batch(tdt_model)
    tdt_model.eval()
    try:
        with torch.no_grad():
            out = asr_step(tdt_model, batch)
    finally:
        tdt_model.train()
    assert {"loss", "wer", "word_errors", "words"} <= set(out)
    reference_words = sum(len(text.split()) for text in BATCH_TEXTS)
    assert float(out["words"]) == pytest.approx(reference_words / 2)
    assert float(out["word_errors"]) >= 0 and torch.isfinite(out["loss"])
    torch.testing.assert_close(out["wer"], out["word_errors"] / out["words"])


def test_freeze_encoder_keeps_the_encoder_fixed(tdt_model):
    """A frozen encoder gets no gradients and stays in eval mode inside a training step;
    the decoder and joint still train. Unfreezing restores gradients."""
    batch = make_batch(tdt_model)
    freeze_encoder(tdt_model, True)
    try:
        tdt_model.train()  # what the trainer does every epoch
        tdt_model.zero_grad()
        asr_step(tdt_model, batch)["loss"].backward()
        assert not tdt_model.encoder.training
        assert all(p.grad is None for p in tdt_model.encoder.parameters())
        assert all(p.grad is not None for p in tdt_model.joint.parameters())
    finally:
        freeze_encoder(tdt_model, False)
    assert tdt_model.encoder.training
    assert_trains(tdt_model, batch)


def test_save_and_restore_round_trip(tdt_model, tmp_path):
    """save_nemo writes the file atomically (no partial file left); load_base restores the
    same model (same outputs) with the CPU TDT loss."""
    path = save_nemo(tdt_model, tmp_path / "models" / "tiny.nemo")
    assert path.is_file() and sorted(p.name for p in path.parent.iterdir()) == ["tiny.nemo"]
    restored = load_base(str(path))
    assert isinstance(restored.loss._loss, CpuTDTLoss) and not restored.training
    batch = make_batch(tdt_model)
    tdt_model.eval()
    try:
        with torch.no_grad():
            # Same draw of the TDT loss's omega (RNN-T instead of TDT with probability 0.1).
            random.seed(0)
            ours = asr_step(tdt_model, batch)
            random.seed(0)
            theirs = asr_step(restored, batch)
            encoded = tdt_model(input_signal=batch[0], input_signal_length=batch[1])[0]
            encoded_restored = restored(input_signal=batch[0], input_signal_length=batch[1])[0]
    finally:
        tdt_model.train()
    torch.testing.assert_close(encoded, encoded_restored)
    for key in ("loss", "word_errors", "words"):
        torch.testing.assert_close(ours[key], theirs[key])
    with pytest.raises(FileNotFoundError, match="missing.nemo"):
        load_base(tmp_path / "missing.nemo")


def test_adapt_tokenizer_repairs_the_tdt_loss(nemo_asr, tokenizer_dir, tmp_path):
    """After a new tokenizer the encoder is unchanged, the joint and the TDT loss are sized
    for the new vocabulary (blank = its size, durations kept) and the model still trains."""
    torch.manual_seed(2)
    model = build_parakeet(TINY, tokenizer_dir)
    encoder_before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    old_vocab = model.tokenizer.vocab_size
    new_dir = adapt_tokenizer(model, ROBOT, tmp_path / "robot_tokenizer", vocab_size=30)
    vocab = model.tokenizer.vocab_size
    assert (new_dir / "tokenizer.model").is_file() and vocab != old_vocab and vocab <= 30
    assert model.joint.num_classes_with_blank == vocab + 1 + 5
    assert isinstance(model.loss._loss, CpuTDTLoss)
    assert model.loss._loss.blank == vocab and model.loss._loss.durations == [0, 1, 2, 3, 4]
    assert all(torch.equal(v, model.encoder.state_dict()[k]) for k, v in encoder_before.items())
    assert_trains(model, make_batch(model))
    model.eval()
    with torch.no_grad():
        assert torch.isfinite(asr_step(model, make_batch(model))["wer"])


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


def test_load_base_offline_names_the_fix(nemo_asr, monkeypatch):
    """A pretrained name without network fails with a message that says to download the
    .nemo file and pass its path."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    name = "nvidia/parakeet-tdt-0.6b-v2"
    with pytest.raises(BaseModelUnavailableError) as caught:
        load_base(name)
    message = str(caught.value)
    assert "no network" in message and name in message
    assert "parakeet-tdt-0.6b-v2.nemo" in message and "pass the path of the .nemo file" in message
