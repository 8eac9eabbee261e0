"""The training step of Parakeet models for ``core.training.fit``: loss (and word errors in
evaluation) of one batch, as NeMo's training step computes it, and the exact corpus WER of
a training history.

Typical use::

    result = fit(model, train, val, step=asr_step, name="parakeet", fit_params=..., trainer_params=...)
    corpus_wer(result.history)            # exact corpus WER per epoch
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn

from dl_roadmap.asr.build import encoder_frozen
from dl_roadmap.asr.data import tokenize_texts


def asr_step(model: nn.Module, batch: Sequence[Tensor]) -> dict[str, Tensor]:
    """Loss (and, in evaluation mode, word errors) of one batch, as NeMo's training step computes it.

    For ``core.training.fit``: the NeMo model is a plain submodule there, not attached to
    a trainer, so NeMo's own ``training_step`` (which logs through it) cannot be used.
    Transducers (TDT, RNN-T): encoder, prediction network, joint, transducer loss (NeMo's
    fused joint path when the model has one). CTC: encoder, CTC head, CTC loss. Hybrids:
    ``(1 - w) * transducer + w * CTC`` with the model's ``ctc_loss_weight``. Not included:
    adapter auxiliary losses and InterCTC (both need NeMo's logging).

    In evaluation mode the batch is also decoded greedily (``model.wer``; a hybrid uses the
    decoder ``model.cur_decoder`` selects) and scored against its transcripts. ``fit``
    averages each scalar over an epoch weighted by batch size, so the returned values are:

    - ``wer``: this batch's WER. Its epoch mean is a batch-size-weighted mean of batch
      WERs: close to the corpus WER, exact only when batches hold equally many words per
      utterance. Fine for monitoring and early stopping.
    - ``word_errors`` and ``words``: word errors and reference words *per utterance* of
      this batch. Their epoch means are totals / utterances, so their ratio is exactly the
      corpus WER (:func:`corpus_wer` computes it from a history).

    Args:
        model: a NeMo ASR model (BPE or character vocabulary).
        batch: NeMo's audio-text batch: signal (B, samples), signal lengths, transcript
            token ids (B, U), transcript lengths (a fifth entry, sample ids, is ignored);
            or ``(signal, lengths, texts)`` from ``asr.data``, tokenized here by the model.

    Returns:
        ``loss`` (with gradient in training mode); hybrids add ``transducer_loss`` and
        ``ctc_loss``; evaluation mode adds ``wer``, ``word_errors`` and ``words``.
    """
    if len(batch) == 3 and isinstance(batch[2], (list, tuple)):  # (signal, lengths, texts): asr/data.py
        signal, signal_len = batch[0], batch[1]
        transcript, transcript_len = tokenize_texts(model, batch[2])
        transcript, transcript_len = transcript.to(signal.device), transcript_len.to(signal.device)
    else:
        signal, signal_len, transcript, transcript_len = batch[:4]
    encoded, encoded_len = _encode(model, signal, signal_len)
    out: dict[str, Tensor] = {}
    if not hasattr(model, "joint"):  # CTC model
        log_probs = model.decoder(encoder_output=encoded)
        loss = model.loss(log_probs=log_probs, targets=transcript, input_lengths=encoded_len,
                          target_lengths=transcript_len)
        metric, predictions = model.wer, log_probs
    else:
        loss = _transducer_loss(model, encoded, encoded_len, transcript, transcript_len)
        metric, predictions = model.wer, encoded
        weight = float(getattr(model, "ctc_loss_weight", 0.0))
        if hasattr(model, "ctc_decoder") and weight > 0:
            log_probs = model.ctc_decoder(encoder_output=encoded)
            ctc_loss = model.ctc_loss(log_probs=log_probs, targets=transcript, input_lengths=encoded_len,
                                      target_lengths=transcript_len)
            out["transducer_loss"] = loss.detach()
            out["ctc_loss"] = ctc_loss.detach()
            loss = (1 - weight) * loss + weight * ctc_loss
            if getattr(model, "cur_decoder", "rnnt") == "ctc":  # score what transcribe would output
                metric, predictions = model.ctc_wer, log_probs
    out["loss"] = loss
    if not model.training:
        errors, words = _word_errors(metric, predictions, encoded_len, transcript, transcript_len)
        batch_size = float(signal.shape[0])
        out["wer"] = errors / words.clamp(min=1.0)
        out["word_errors"] = errors / batch_size
        out["words"] = words / batch_size
    return out


def _encode(model: nn.Module, signal: Tensor, signal_len: Tensor) -> tuple[Tensor, Tensor]:
    """Features, SpecAugment (training only) and encoder: NeMo's ``forward`` for transducers,
    written out so that a frozen encoder runs without autograd and in evaluation mode."""
    frozen = encoder_frozen(model)
    if frozen:
        model.encoder.eval()
    with torch.set_grad_enabled(torch.is_grad_enabled() and not frozen):
        features, feature_len = model.preprocessor(input_signal=signal, length=signal_len)
        if getattr(model, "spec_augmentation", None) is not None and model.training:
            features = model.spec_augmentation(input_spec=features, length=feature_len)
        encoded = model.encoder(audio_signal=features, length=feature_len)
    return encoded[0], encoded[1]


def _transducer_loss(model: nn.Module, encoded: Tensor, encoded_len: Tensor, transcript: Tensor,
                     transcript_len: Tensor) -> Tensor:
    decoder_out, target_len, _ = model.decoder(targets=transcript, target_length=transcript_len)
    if model.joint.fuse_loss_wer:
        # The fused joint computes joint and loss in sub-batches (NeMo's memory saver).
        loss, _, _, _ = model.joint(encoder_outputs=encoded, decoder_outputs=decoder_out,
                                    encoder_lengths=encoded_len, transcripts=transcript,
                                    transcript_lengths=target_len, compute_wer=False)
        return loss
    joint = model.joint(encoder_outputs=encoded, decoder_outputs=decoder_out)
    return model.loss(log_probs=joint, targets=transcript, input_lengths=encoded_len, target_lengths=target_len)


def _word_errors(metric: Any, predictions: Tensor, lengths: Tensor, transcript: Tensor,
                 transcript_len: Tensor) -> tuple[Tensor, Tensor]:
    """(word errors, reference words) of a batch, greedy-decoded by a NeMo WER metric."""
    with torch.no_grad():
        metric.update(predictions=predictions, predictions_lengths=lengths, targets=transcript,
                      targets_lengths=transcript_len)
        _, errors, words = metric.compute()
        metric.reset()
    return errors.float().detach().cpu(), words.float().detach().cpu()


def corpus_wer(history: pd.DataFrame, stage: str = "val") -> pd.Series:
    """Exact corpus WER per epoch from a ``fit`` history of :func:`asr_step` metrics.

    Args:
        history: ``FitResult.history``.
        stage: ``"val"`` (or ``"train"`` if training ran in evaluation mode).

    Returns:
        ``<stage>_word_errors / <stage>_words`` for each epoch.
    """
    return history[f"{stage}_word_errors"] / history[f"{stage}_words"]
