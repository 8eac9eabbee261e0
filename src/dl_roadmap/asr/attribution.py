"""Which parts of the input spectrogram a Parakeet-family model relies on: gradient x input
attribution over the log-mel features of single utterances.

The score explained is the log-likelihood of the model's own transcript,
``log P(y | x)`` summed over all alignments exactly as the model's loss sums them:
``-loss`` of one utterance for transducers (TDT, RNN-T; a hybrid uses the head that its
``cur_decoder`` selects) and CTC. Its gradient with respect to the features ``x`` (as the
encoder receives them: normalised log-mel, ``n_mels x frames``) times ``x`` is the
attribution. With NeMo's ``per_feature`` normalisation every mel bin has zero mean over
the utterance, so gradient x input is the first-order estimate of how much the score
drops when a feature is moved to its utterance mean; ``explain.deletion_check`` makes that
move for real, on whole frames.

Typical use::

    model = load_base("data/06_models/parakeet.nemo")
    item = attribute_utterance(model, "clip.wav")   # features, gradient, attribution, tokens...
    log_likelihood(model, item["features"], item["token_ids"])

The deletion check, the figure and several utterances at once are in ``explain``. NeMo is
not imported here: the functions only call the model they are given.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from dl_roadmap.asr.audio import TARGET_SAMPLE_RATE, load_audio

DEFAULT_FRAME_SECONDS = 0.01  # NeMo's default window_stride


# ---------------------------------------------------------------------------- scoring


def _head(model: nn.Module) -> str:
    """``"ctc"`` or ``"transducer"``: the output head whose likelihood is explained.

    CTC models have no joint network; a hybrid is scored with the head it decodes with
    (``cur_decoder``, transducer unless changed), so that the score belongs to the
    hypothesis the model actually outputs.
    """
    if not hasattr(model, "joint"):
        return "ctc"
    if hasattr(model, "ctc_decoder") and getattr(model, "cur_decoder", "rnnt") == "ctc":
        return "ctc"
    return "transducer"


def _device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _dtype(model: nn.Module) -> torch.dtype:
    """The encoder's floating-point type (features are given to it in that type)."""
    parameter = next(model.encoder.parameters(), None)
    return parameter.dtype if parameter is not None and parameter.is_floating_point() else torch.float32


def _loss_objects_with_omega(model: nn.Module) -> list[Any]:
    """Inner transducer losses that may swap in a plain RNN-T loss at random (TDT's ``omega``)."""
    found: list[Any] = []
    for holder in (getattr(model, "loss", None), getattr(getattr(model, "joint", None), "_loss", None)):
        inner = getattr(holder, "_loss", None)
        for candidate in (inner, getattr(inner, "cuda_loss", None)):
            if candidate is not None and hasattr(candidate, "omega") and all(candidate is not f for f in found):
                found.append(candidate)
    return found


@contextmanager
def _scoring(model: nn.Module) -> Iterator[None]:
    """Evaluation mode, a deterministic per-utterance transducer loss; everything restored after.

    - every submodule's train/eval flag is saved and put back one by one (a frozen
      encoder stays in evaluation mode inside a model in training mode);
    - TDT's ``omega`` (the chance of computing the plain RNN-T loss instead) is set to 0,
      so the score is the TDT likelihood on every call;
    - ``RNNTLoss.reduction`` is set to None, so the loss is per utterance whatever the
      model's configured reduction (``mean`` would divide by the number of tokens).
    """
    modes = [(module, module.training) for module in model.modules()]
    omegas = [(loss, loss.omega) for loss in _loss_objects_with_omega(model)]
    loss = getattr(model, "loss", None) if hasattr(model, "joint") else None
    reduction = getattr(loss, "reduction", None)
    model.eval()
    try:
        for inner, _ in omegas:
            inner.omega = 0.0
        if loss is not None and hasattr(loss, "reduction"):
            loss.reduction = None
        yield
    finally:
        if loss is not None and hasattr(loss, "reduction"):
            loss.reduction = reduction
        for inner, omega in omegas:
            inner.omega = omega
        for module, mode in modes:
            module.training = mode


def _encode(model: nn.Module, features: Tensor) -> tuple[Tensor, Tensor]:
    """Encoder output (1, D, T') and its length for features (1, n_mels, frames)."""
    length = torch.tensor([features.shape[-1]], dtype=torch.long, device=features.device)
    encoded, encoded_len = model.encoder(audio_signal=features, length=length)
    return encoded, encoded_len


def _ctc_log_probs(model: nn.Module, encoded: Tensor) -> Tensor:
    decoder = model.ctc_decoder if hasattr(model, "joint") else model.decoder
    return decoder(encoder_output=encoded)  # (1, T', V + 1), log-softmaxed, blank last


def _transducer_blank(model: nn.Module) -> int:
    joint = model.joint
    return int(joint.num_classes_with_blank) - 1 - int(getattr(joint, "num_extra_outputs", 0) or 0)


def _score_encoded(model: nn.Module, head: str, encoded: Tensor, encoded_len: Tensor,
                   token_ids: Sequence[int]) -> Tensor:
    """``log P(tokens | x)`` of one utterance (a 0-d tensor) from its encoder output.

    Call inside :func:`_scoring` (per-utterance transducer loss, no random RNN-T swap).
    """
    device = encoded.device
    targets = torch.tensor([list(token_ids)], dtype=torch.long, device=device).reshape(1, len(token_ids))
    target_len = torch.tensor([len(token_ids)], dtype=torch.long, device=device)
    if head == "ctc":
        log_probs = _ctc_log_probs(model, encoded)
        if log_probs.dtype in (torch.float16, torch.bfloat16):
            log_probs = log_probs.float()  # torch's CTC loss needs float32 or float64
        # torch's CTC loss itself (NeMo's CTCLoss wraps it): per utterance, and with
        # zero_infinity off, so an impossible target reads -inf rather than a likelihood of 1.
        loss = torch.nn.functional.ctc_loss(
            log_probs.transpose(0, 1), targets.reshape(-1), encoded_len.long(), target_len,
            blank=log_probs.shape[-1] - 1, reduction="none", zero_infinity=False,
        )
        return -loss[0]
    decoder_out, decoder_len, _ = model.decoder(targets=targets, target_length=target_len)
    # The joint's plain (unfused) computation, whatever the model's fuse_loss_wer setting.
    joint = model.joint.joint(encoded.transpose(1, 2), decoder_out.transpose(1, 2))
    loss = model.loss(log_probs=joint, targets=targets, input_lengths=encoded_len, target_lengths=decoder_len)
    return -loss.reshape(-1)[0]


def _greedy_tokens(model: nn.Module, head: str, encoded: Tensor, encoded_len: Tensor) -> list[int]:
    """Token ids the model emits for this encoder output.

    Transducers: the model's own decoding (greedy unless reconfigured), durations and
    blanks dropped. CTC: frame-wise argmax, repeats merged, blanks dropped (greedy CTC).
    """
    with torch.no_grad():
        if head == "ctc":
            log_probs = _ctc_log_probs(model, encoded)[0, : int(encoded_len[0])]
            blank = log_probs.shape[-1] - 1
            best = log_probs.argmax(dim=-1).tolist()
            return [token for i, token in enumerate(best) if token != blank and (i == 0 or token != best[i - 1])]
        hypotheses = model.decoding.rnnt_decoder_predictions_tensor(
            encoder_output=encoded.detach(), encoded_lengths=encoded_len, return_hypotheses=True
        )
    if isinstance(hypotheses, tuple):  # older NeMo returns (best, all)
        hypotheses = hypotheses[0]
    sequence = hypotheses[0].y_sequence
    sequence = sequence.tolist() if isinstance(sequence, Tensor) else list(sequence)
    blank = _transducer_blank(model)
    return [int(token) for token in sequence if 0 <= int(token) < blank]


def _pieces(model: nn.Module, token_ids: Sequence[int]) -> list[str]:
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is not None:
        return [str(piece) for piece in tokenizer.ids_to_tokens(list(token_ids))]
    labels = list(model.cfg.get("labels", []))
    return [str(labels[i]) for i in token_ids]


def _text(model: nn.Module, token_ids: Sequence[int]) -> str:
    tokenizer = getattr(model, "tokenizer", None)
    text = tokenizer.ids_to_text(list(token_ids)) if tokenizer is not None else "".join(_pieces(model, token_ids))
    return " ".join(str(text).split())


def _token_ids(model: nn.Module, text: str) -> list[int]:
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:
        raise TypeError(f"{type(model).__name__} has no tokenizer; pass hypothesis=None to score its own output")
    return [int(i) for i in tokenizer.text_to_ids(text)] if text else []


def frame_seconds(model: nn.Module) -> float:
    """Seconds between feature frames: the preprocessor's ``window_stride`` (10 ms by default)."""
    cfg = getattr(model, "cfg", None)
    preprocessor = cfg.get("preprocessor", None) if hasattr(cfg, "get") else None
    stride = preprocessor.get("window_stride", None) if hasattr(preprocessor, "get") else None
    return float(stride) if stride else DEFAULT_FRAME_SECONDS


def features_of(model: nn.Module, audio_path: str | Path) -> np.ndarray:
    """The model's input features for an audio file: (n_mels, frames) float32.

    The file is decoded to mono at the model's sample rate (16 kHz for Parakeet) and run
    through ``model.preprocessor`` in evaluation mode (no dither; SpecAugment is a separate
    module and is not applied). Padding frames past the valid length are cut off.
    """
    sample_rate = int(getattr(model, "cfg", {}).get("sample_rate", TARGET_SAMPLE_RATE) or TARGET_SAMPLE_RATE)
    samples = load_audio(audio_path, sample_rate)
    if samples.size == 0:
        raise ValueError(f"{audio_path}: no audio samples")
    device = _device(model)
    signal = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None].to(device)
    length = torch.tensor([signal.shape[1]], dtype=torch.long, device=device)
    with _scoring(model), torch.no_grad():
        features, feature_len = model.preprocessor(input_signal=signal, length=length)
    return features[0, :, : int(feature_len[0])].float().cpu().numpy()


def log_likelihood(model: nn.Module, features: np.ndarray | Tensor, token_ids: Sequence[int]) -> float:
    """``log P(token_ids | features)`` under the model: minus its loss for this one utterance.

    Summed over all alignments as the loss sums them (TDT: NeMo's lattice with durations
    and ``sigma``, never the random RNN-T swap; RNN-T; CTC). ``-inf`` when no alignment
    exists. The model's mode is left as it was.

    Args:
        model: a NeMo transducer, CTC or hybrid model.
        features: (n_mels, frames) features as :func:`features_of` returns them.
        token_ids: the target tokens.
    """
    x = torch.as_tensor(features, dtype=_dtype(model), device=_device(model))[None]
    head = _head(model)
    with _scoring(model), torch.no_grad():
        encoded, encoded_len = _encode(model, x)
        return float(_score_encoded(model, head, encoded, encoded_len, token_ids))


# ---------------------------------------------------------------------------- attribution


def attribute_utterance(model: nn.Module, audio_path: str | Path, hypothesis: str | None = None, *,
                        reference: str | None = None) -> dict[str, Any]:
    """Gradient x input attribution of the model's transcript over the log-mel spectrogram.

    The features (:func:`features_of`) become a leaf tensor; encoder, decoder/joint and
    loss run on them; the score is the log-likelihood of the target tokens (minus the
    per-utterance loss, see :func:`log_likelihood`); ``torch.autograd.grad`` takes its
    gradient with respect to the features only, so no parameter's ``.grad`` is touched.
    The model runs in evaluation mode and every submodule's mode is restored afterwards.

    Target tokens: with ``hypothesis=None``, the tokens the model emits for these very
    features (its greedy decoding: transducer decoding, or CTC argmax with repeats merged
    and blanks dropped), so the score is that of its own output, token for token.
    Otherwise ``hypothesis`` is tokenized with ``model.tokenizer`` (pass a reference to
    explain the reference instead).

    An empty target (the model emits nothing) is still scored: the score is then the
    log-probability of emitting nothing (all-blank alignments), and the attribution shows
    which frames push the model towards silence; ``note`` says so. When no alignment
    exists (CTC with more tokens than frames allow) the log-likelihood is ``-inf``, the
    attribution is all zeros and ``note`` says why.

    Args:
        model: a NeMo ASR model of the Parakeet family (TDT, RNN-T, CTC, hybrid).
        audio_path: audio file (any format :func:`~dl_roadmap.asr.audio.load_audio` reads).
        hypothesis: the transcript to explain; None for the model's own.
        reference: the reference transcript, only recorded (figure titles).

    Returns:
        A dict: ``audio_filepath``, ``features``, ``gradient`` and ``attribution``
        ((n_mels, frames) float32 arrays; attribution = gradient * features),
        ``frame_mass`` ((frames,): sum of |attribution| over mel bins), ``hypothesis``
        (text), ``token_ids``, ``tokens`` (pieces), ``log_likelihood`` (float), ``head``
        (``"transducer"`` or ``"ctc"``), ``frame_seconds``, ``reference`` and ``note``
        (None, or why the result is special).
    """
    features = features_of(model, audio_path)
    device = _device(model)
    head = _head(model)
    x = torch.tensor(features, dtype=_dtype(model), device=device)[None].requires_grad_(True)
    with _scoring(model), torch.enable_grad():
        encoded, encoded_len = _encode(model, x)
        if hypothesis is None:
            token_ids = _greedy_tokens(model, head, encoded, encoded_len)
            text = _text(model, token_ids)
        else:
            text = " ".join(str(hypothesis).split())
            token_ids = _token_ids(model, text)
        score = _score_encoded(model, head, encoded, encoded_len, token_ids)
        finite = bool(torch.isfinite(score))
        if finite:
            (gradient,) = torch.autograd.grad(score, x)
            gradient = gradient[0].detach().float().cpu().numpy()
        else:
            gradient = np.zeros_like(features)
    note = None
    if not finite:
        note = "no alignment of these tokens fits these frames: log-likelihood is -inf, attribution set to zero"
    elif not token_ids:
        note = "empty hypothesis: the score is the log-probability of emitting nothing (all-blank alignments)"
    attribution = (gradient * features).astype(np.float32)
    return {
        "audio_filepath": str(audio_path),
        "features": features,
        "gradient": gradient.astype(np.float32),
        "attribution": attribution,
        "frame_mass": np.abs(attribution).sum(axis=0),
        "hypothesis": text,
        "token_ids": list(token_ids),
        "tokens": _pieces(model, token_ids),
        "log_likelihood": float(score.detach()),
        "head": head,
        "frame_seconds": frame_seconds(model),
        "reference": None if reference is None else " ".join(str(reference).split()),
        "note": note,
    }
