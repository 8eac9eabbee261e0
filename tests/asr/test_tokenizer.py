"""SentencePiece tokenizers in NeMo's layout, and a new tokenizer for a trained model
(dl_roadmap.asr.tokenizer)."""

from __future__ import annotations

import pytest
import torch

from dl_roadmap.asr.build import build_parakeet
from dl_roadmap.asr.step import asr_step
from dl_roadmap.asr.tdt_nemo import CpuTDTLoss
from dl_roadmap.asr.tokenizer import adapt_tokenizer, train_tokenizer
from tests.asr.samples import HOME, ROBOT
from tests.asr.tiny import TINY, assert_trains, make_batch


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


def test_adapt_tokenizer_repairs_the_tdt_loss(nemo_asr, command_tokenizer, tmp_path):
    """After a new tokenizer the encoder is unchanged, the joint and the TDT loss are sized
    for the new vocabulary (blank = its size, durations kept) and the model still trains."""
    torch.manual_seed(2)
    model = build_parakeet(TINY, command_tokenizer)
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
