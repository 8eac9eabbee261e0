"""New Parakeet models of every head, and encoder freezing (dl_roadmap.asr.build).

One tiny TDT model (1 FastConformer layer, d_model 32) is shared by most tests; NeMo is
imported once per test session."""

from __future__ import annotations

import pytest
import torch

from dl_roadmap.asr.build import build_parakeet, freeze_encoder
from dl_roadmap.asr.step import asr_step
from dl_roadmap.asr.tdt_nemo import CpuTDTLoss
from tests.asr.tiny import TINY, assert_trains, make_batch


def test_tdt_model_is_a_parakeet(tdt_model, command_tokenizer):
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
def test_every_decoder_kind_trains_on_cpu(kind, tdt_model, command_tokenizer):
    """Each Parakeet head builds and gives a finite loss with gradients through asr_step;
    a hybrid mixes its losses with ctc_loss_weight."""
    torch.manual_seed(1)
    model = tdt_model if kind == "tdt" else build_parakeet({**TINY, "decoder": kind}, command_tokenizer)
    expected = {"tdt": "EncDecRNNTBPEModel", "rnnt": "EncDecRNNTBPEModel", "ctc": "EncDecCTCModelBPE",
                "hybrid_tdt_ctc": "EncDecHybridRNNTCTCBPEModel"}[kind]
    assert type(model).__name__ == expected
    out = assert_trains(model, make_batch(model))
    if kind == "hybrid_tdt_ctc":
        assert isinstance(model.loss._loss, CpuTDTLoss)
        mixed = 0.7 * out["transducer_loss"] + 0.3 * out["ctc_loss"]
        torch.testing.assert_close(out["loss"].detach(), mixed)


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
