"""How faithful an attribution is, and the report of a few explained utterances: the
deletion check (remove the most attributed frames, then as many random ones), a figure of
spectrograms beside their attribution maps, and the per-utterance table.

Typical use::

    model = load_base("data/06_models/parakeet.nemo")
    items, table = explain_utterances(model, rows, count=3)
    figure = attribution_figure(items, title="parakeet, test set")
    figure.savefig("data/08_reporting/attribution.png", dpi=120)

The attribution itself (gradient x input of the log-likelihood) is in ``attribution``; NeMo
is not imported here either.
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.asr.attribution import DEFAULT_FRAME_SECONDS, attribute_utterance, log_likelihood

DELETION_COLUMNS = ("fraction", "frames_removed", "ll_original", "ll_top_removed", "ll_random_removed")
TABLE_COLUMNS = ("audio_filepath", "reference", "hypothesis", "log_likelihood", "deletion_fraction",
                 "ll_top_removed", "ll_random_removed")


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
