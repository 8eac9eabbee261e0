"""Which parts of the input spectrogram a Parakeet-family model relies on: gradient x input
attribution over the log-mel features of single utterances, a deletion check of how
faithful that attribution is, and a figure of both.

The score explained is the log-likelihood of the model's own transcript,
``log P(y | x)`` summed over all alignments exactly as the model's loss sums them:
``-loss`` of one utterance for transducers (TDT, RNN-T; a hybrid uses the head that its
``cur_decoder`` selects) and CTC. Its gradient with respect to the features ``x`` (as the
encoder receives them: normalised log-mel, ``n_mels x frames``) times ``x`` is the
attribution. With NeMo's ``per_feature`` normalisation every mel bin has zero mean over
the utterance, so gradient x input is the first-order estimate of how much the score
drops when a feature is moved to its utterance mean; :func:`deletion_check` makes that
move for real, on whole frames.

Typical use::

    model = load_base("data/06_models/parakeet.nemo")
    items, table = explain_utterances(model, rows, count=3)
    figure = attribution_figure(items, title="parakeet, test set")
    figure.savefig("data/08_reporting/attribution.png", dpi=120)

NeMo is not imported here: the functions only call the model they are given.
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from dl_roadmap.asr.audio import TARGET_SAMPLE_RATE, load_audio

DEFAULT_FRAME_SECONDS = 0.01  # NeMo's default window_stride
DELETION_COLUMNS = ("fraction", "frames_removed", "ll_original", "ll_top_removed", "ll_random_removed")
TABLE_COLUMNS = ("audio_filepath", "reference", "hypothesis", "log_likelihood", "deletion_fraction",
                 "ll_top_removed", "ll_random_removed")


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


# ---------------------------------------------------------------------------- faithfulness


def _frames_to_remove(fraction: float, frames: int) -> int:
    if not 0.0 < float(fraction) <= 1.0:
        raise ValueError(f"deletion fractions must lie in (0, 1], got {fraction}")
    return min(frames, max(1, int(round(float(fraction) * frames))))


def deletion_check(model: nn.Module, item: Mapping[str, Any], fractions: Sequence[float] = (0.1, 0.2, 0.3),
                   seed: int = 0, *, random_draws: int = 3) -> pd.DataFrame:
    """Faithfulness of an attribution: does removing the frames it ranks highest hurt most?

    For each fraction, the ``round(fraction * frames)`` frames (at least one) with the
    largest ``frame_mass`` are replaced by the baseline and the log-likelihood of the same
    tokens is recomputed; the same number of frames drawn at random (``random_draws``
    draws, averaged) gives the comparison. A meaningful attribution gives
    ``ll_top_removed`` well below ``ll_random_removed``.

    Baseline: each mel bin's mean over the utterance. It is the point gradient x input
    measures from (with per-feature normalisation that mean is 0, and gradient x input is
    the first-order change in score when a feature goes to 0), and it is a plausible
    input for the encoder. The log-mel floor (digital silence) would instead be far outside
    the normalised range the encoder saw in training, so its effect would mix "this frame
    mattered" with "this input is out of distribution".

    Args:
        model: the model the item was computed with.
        item: a result of :func:`attribute_utterance`.
        fractions: shares of the frames to remove, each in (0, 1].
        seed: seed of the random frame draws.
        random_draws: random draws averaged per fraction.

    Returns:
        One row per fraction: ``fraction``, ``frames_removed``, ``ll_original``,
        ``ll_top_removed``, ``ll_random_removed``.
    """
    if random_draws < 1:
        raise ValueError(f"random_draws must be at least 1, got {random_draws}")
    features = np.asarray(item["features"], dtype=np.float32)
    mass = np.asarray(item["frame_mass"], dtype=np.float64)
    token_ids = list(item["token_ids"])
    frames = features.shape[1]
    baseline = features.mean(axis=1, keepdims=True)
    order = np.argsort(-mass, kind="stable")  # most attributed first; ties keep time order
    rng = np.random.default_rng(seed)

    def removed(columns: np.ndarray) -> float:
        changed = features.copy()
        changed[:, columns] = baseline
        return log_likelihood(model, changed, token_ids)

    original = log_likelihood(model, features, token_ids)
    rows = []
    for fraction in fractions:
        count = _frames_to_remove(fraction, frames)
        draws = [removed(rng.choice(frames, size=count, replace=False)) for _ in range(random_draws)]
        rows.append({
            "fraction": float(fraction),
            "frames_removed": count,
            "ll_original": original,
            "ll_top_removed": removed(order[:count]),
            "ll_random_removed": float(np.mean(draws)),
        })
    return pd.DataFrame(rows, columns=list(DELETION_COLUMNS))


# ---------------------------------------------------------------------------- figure


def _title(item: Mapping[str, Any], width: int = 100) -> str:
    hypothesis = item.get("hypothesis") or "(empty)"
    lines = [textwrap.shorten(f"hyp: {hypothesis}", width=width, placeholder=" ...")]
    if item.get("reference") is not None:
        lines.append(textwrap.shorten(f"ref: {item['reference'] or '(empty)'}", width=width, placeholder=" ..."))
    return "\n".join(lines)


def attribution_figure(items: Sequence[Mapping[str, Any]], title: str | None = None) -> Figure:
    """One row per utterance: its log-mel spectrogram, and its attribution map.

    The attribution uses a diverging colormap centred on 0 with symmetric limits (red:
    raises the log-likelihood, blue: lowers it); the limit is printed in the panel's
    title. Time is in seconds (frames x ``frame_seconds``). No colorbars, so the figure
    has exactly two axes per item.

    Args:
        items: results of :func:`attribute_utterance`.
        title: a title over the whole figure.

    Returns:
        A ``matplotlib.figure.Figure`` (not registered with pyplot).
    """
    if not items:
        raise ValueError("attribution_figure: no items to plot")
    figure = Figure(figsize=(13, 2.9 * len(items) + (0.4 if title else 0.0)), layout="constrained")
    axes = figure.subplots(len(items), 2, squeeze=False)
    for row, item in enumerate(items):
        features = np.asarray(item["features"])
        attribution = np.asarray(item["attribution"])
        n_mels, frames = features.shape
        extent = (0.0, frames * float(item.get("frame_seconds", DEFAULT_FRAME_SECONDS)), 0.0, float(n_mels))
        spectrogram, attributed = axes[row]
        spectrogram.imshow(features, origin="lower", aspect="auto", extent=extent, cmap="magma",
                           interpolation="nearest")
        spectrogram.set_title(_title(item), fontsize=9, loc="left")
        limit = float(np.abs(attribution).max()) if attribution.size else 0.0
        limit = limit if limit > 0 and np.isfinite(limit) else 1e-12
        attributed.imshow(attribution, origin="lower", aspect="auto", extent=extent, cmap="RdBu_r",
                          vmin=-limit, vmax=limit, interpolation="nearest")
        attributed.set_title(f"gradient x input (limits ±{limit:.3g}), log P = {item['log_likelihood']:.2f}",
                             fontsize=9, loc="left")
        for axis in (spectrogram, attributed):
            axis.set_xlabel("time (s)")
            axis.set_ylabel("mel bin")
    if title:
        figure.suptitle(title)
    return figure


# ---------------------------------------------------------------------------- several utterances


def pick_rows(rows: Sequence[Mapping[str, Any]], count: int, seed: int = 0) -> list[Mapping[str, Any]]:
    """``count`` rows drawn with a seeded generator, in their original order (all if fewer)."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if count >= len(rows):
        return list(rows)
    chosen = sorted(random.Random(seed).sample(range(len(rows)), count))
    return [rows[i] for i in chosen]


def explain_utterances(model: nn.Module, rows: Sequence[Mapping[str, Any]], count: int = 3, seed: int = 0, *,
                       fraction: float = 0.2) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """Attribute the model's own transcript for a few utterances and check each attribution.

    Args:
        model: a NeMo ASR model.
        rows: manifest rows (``audio_filepath``, ``text``).
        count: utterances to explain, picked by :func:`pick_rows` with ``seed``.
        seed: seed of the pick and of the deletion check's random frames.
        fraction: the share of frames removed in the deletion check.

    Returns:
        The items (:func:`attribute_utterance` results, references recorded) and a table
        with ``audio_filepath``, ``reference``, ``hypothesis``, ``log_likelihood``,
        ``deletion_fraction``, ``ll_top_removed`` and ``ll_random_removed``.
    """
    items, records = [], []
    for row in pick_rows(rows, count, seed):
        reference = " ".join(str(row.get("text", "")).split())
        item = attribute_utterance(model, row["audio_filepath"], reference=reference)
        check = deletion_check(model, item, fractions=(fraction,), seed=seed).iloc[0]
        items.append(item)
        records.append({
            "audio_filepath": item["audio_filepath"],
            "reference": reference,
            "hypothesis": item["hypothesis"],
            "log_likelihood": item["log_likelihood"],
            "deletion_fraction": float(fraction),
            "ll_top_removed": float(check["ll_top_removed"]),
            "ll_random_removed": float(check["ll_random_removed"]),
        })
    return items, pd.DataFrame(records, columns=list(TABLE_COLUMNS))
