"""Word-level error analysis of a speech-recognition test set.

A corpus WER says how much is wrong; this module says what: which utterances fail, which
words are swapped for which, which are dropped and which are invented. Alignments come
from ``jiwer`` (a Levenshtein alignment over words), so the counts here add up to the WER
that ``jiwer`` reports for the same texts.

- :func:`utterance_table`: one line per utterance with its error counts, WER and CER.
- :func:`error_counts`: every substitution / deletion / insertion of the corpus, counted.
- :func:`error_summary`: corpus totals of an utterance table.
- :func:`top_errors_figure` and :func:`wer_comparison_figure`: report figures, drawn on a
  bare :class:`matplotlib.figure.Figure` so they work headless and in parallel runs.

Texts are compared as given apart from whitespace, which is collapsed: normalise case and
punctuation beforehand (``dl_roadmap.asr.text``) so that the errors counted are real ones.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import jiwer
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

KINDS: tuple[str, str, str] = ("substitution", "deletion", "insertion")
UTTERANCE_COLUMNS: list[str] = [
    "audio_filepath", "duration", "reference", "hypothesis", "words",
    "substitutions", "deletions", "insertions", "errors", "wer", "cer",
]
COUNT_COLUMNS: list[str] = ["kind", "reference", "hypothesis", "count"]

_PANEL_TITLES = {"substitution": "Substitutions (ref → hyp)", "deletion": "Deletions",
                 "insertion": "Insertions"}
_PANEL_COLORS = {"substitution": "tab:orange", "deletion": "tab:red", "insertion": "tab:blue"}


def _collapse(text: Any) -> str:
    """Text with runs of whitespace made single spaces and the ends trimmed ("" for missing)."""
    # Missing transcripts arrive as None or, out of a DataFrame, as NaN: both mean "nothing said".
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return " ".join(str(text).split())


def _check_lengths(n_references: int, n_hypotheses: int) -> None:
    if n_references != n_hypotheses:
        raise ValueError(f"got {n_references} references but {n_hypotheses} hypotheses; "
                         "they must pair up one to one, in the same order")


def _duration(row: Mapping[str, Any]) -> float:
    value = row.get("duration")
    return float("nan") if value is None else float(value)


def utterance_table(rows: Sequence[Mapping[str, Any]] | pd.DataFrame, hypotheses: Sequence[str]) -> pd.DataFrame:
    """Error counts, WER and CER of every utterance.

    Args:
        rows: Manifest rows in test-set order, each with ``audio_filepath`` and ``text`` (the
            reference) and optionally ``duration`` (a DataFrame with those columns works too).
        hypotheses: The recognised text of each row, in the same order.

    Returns:
        One line per utterance with the columns of ``UTTERANCE_COLUMNS``. ``wer`` and ``cer``
        divide by at least one word / character, so an empty reference gives its insertion count.

    Raises:
        ValueError: If the numbers of rows and hypotheses differ, or a row has no ``text``.
    """
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)
    hypotheses = list(hypotheses)
    _check_lengths(len(records), len(hypotheses))
    if not records:
        return pd.DataFrame({name: pd.Series(dtype=_column_dtype(name)) for name in UTTERANCE_COLUMNS})
    for index, row in enumerate(records):
        if "text" not in row:
            raise ValueError(f"row {index} ({row.get('audio_filepath', '?')}) has no 'text' (reference)")

    references = [_collapse(row["text"]) for row in records]
    hyps = [_collapse(text) for text in hypotheses]
    # One jiwer call for the whole set: it aligns each pair separately and hands back the
    # per-utterance alignments, which are all that is needed to count per line.
    words = jiwer.process_words(references, hyps)
    chars = jiwer.process_characters(references, hyps)

    lines = []
    for i, row in enumerate(records):
        subs, dels, ins = _chunk_totals(words.alignments[i])
        n_words = len(words.references[i])
        char_errors = sum(_chunk_totals(chars.alignments[i]))
        lines.append({
            "audio_filepath": str(row.get("audio_filepath", "")),
            "duration": _duration(row),
            "reference": references[i],
            "hypothesis": hyps[i],
            "words": n_words,
            "substitutions": subs,
            "deletions": dels,
            "insertions": ins,
            "errors": subs + dels + ins,
            "wer": (subs + dels + ins) / max(n_words, 1),
            # Same convention as the WER (errors over at least one unit) so that an empty
            # reference does not divide by zero; otherwise this is exactly jiwer.cer.
            "cer": char_errors / max(len(chars.references[i]), 1),
        })
    return pd.DataFrame(lines, columns=UTTERANCE_COLUMNS)


def _column_dtype(name: str) -> str:
    if name in ("audio_filepath", "reference", "hypothesis"):
        return "str"
    if name in ("duration", "wer", "cer"):
        return "float64"
    return "int64"


def _chunk_totals(chunks: Sequence[Any]) -> tuple[int, int, int]:
    """Substitutions, deletions and insertions of one utterance's alignment."""
    subs = dels = ins = 0
    for chunk in chunks:
        if chunk.type == "substitute":
            subs += chunk.ref_end_idx - chunk.ref_start_idx
        elif chunk.type == "delete":
            dels += chunk.ref_end_idx - chunk.ref_start_idx
        elif chunk.type == "insert":
            ins += chunk.hyp_end_idx - chunk.hyp_start_idx
    return subs, dels, ins


def error_counts(references: Sequence[str], hypotheses: Sequence[str], top: int | None = None) -> pd.DataFrame:
    """Count every word-level error of a corpus.

    Args:
        references: Reference texts.
        hypotheses: Recognised texts, in the same order.
        top: If given, keep only the ``top`` most frequent lines of each kind.

    Returns:
        Columns ``kind`` ("substitution" | "deletion" | "insertion"), ``reference`` ("" for an
        insertion), ``hypothesis`` ("" for a deletion) and ``count``; sorted by count (most
        frequent first), then kind, reference and hypothesis. Empty (same columns) if nothing
        is wrong.

    Raises:
        ValueError: If the numbers of references and hypotheses differ, or ``top`` is negative.
    """
    references = [_collapse(text) for text in references]
    hypotheses = [_collapse(text) for text in hypotheses]
    _check_lengths(len(references), len(hypotheses))
    if top is not None and top < 0:
        raise ValueError(f"top must be >= 0 or None, got {top}")

    counter: Counter[tuple[str, str, str]] = Counter()
    if references:
        output = jiwer.process_words(references, hypotheses)
        for ref_words, hyp_words, chunks in zip(output.references, output.hypotheses, output.alignments):
            for chunk in chunks:
                ref_part = ref_words[chunk.ref_start_idx:chunk.ref_end_idx]
                hyp_part = hyp_words[chunk.hyp_start_idx:chunk.hyp_end_idx]
                if chunk.type == "substitute":
                    # A substitute chunk always covers as many reference as hypothesis words
                    # (Levenshtein replaces one for one), so pairing them in order is exact.
                    counter.update(("substitution", r, h) for r, h in zip(ref_part, hyp_part))
                elif chunk.type == "delete":
                    counter.update(("deletion", r, "") for r in ref_part)
                elif chunk.type == "insert":
                    counter.update(("insertion", "", h) for h in hyp_part)

    frame = pd.DataFrame([(*key, n) for key, n in counter.items()], columns=COUNT_COLUMNS)
    frame = frame.astype({"kind": "str", "reference": "str", "hypothesis": "str", "count": "int64"})
    frame = _sort_counts(frame)
    if top is not None:
        # The frame is already in its final order, so the head of each kind is its most
        # frequent lines with ties broken the same deterministic way.
        frame = frame.groupby("kind", sort=False).head(top)
    return frame.reset_index(drop=True)


def _sort_counts(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["count", "kind", "reference", "hypothesis"],
                             ascending=[False, True, True, True], kind="mergesort")


def error_summary(table: pd.DataFrame) -> dict[str, float]:
    """Corpus totals of an :func:`utterance_table`.

    The corpus WER is total errors over total reference words (not the mean of the per-line
    WERs, which would let short utterances weigh as much as long ones); the CER is recomputed
    over the whole corpus from the ``reference`` and ``hypothesis`` columns.

    Args:
        table: The output of :func:`utterance_table` (or a selection of its lines).

    Returns:
        ``wer``, ``cer``, ``substitutions``, ``deletions``, ``insertions``, ``words``,
        ``utterances`` and ``sentence_error_rate`` (fraction of utterances with any error).
        Rates are NaN for an empty table; a corpus of empty references divides by one word.

    Raises:
        ValueError: If columns of an utterance table are missing.
    """
    missing = [c for c in ("reference", "hypothesis", "words", "substitutions", "deletions", "insertions", "errors")
               if c not in table.columns]
    if missing:
        raise ValueError(f"not an utterance table: missing columns {missing}")

    utterances = len(table)
    words = int(table["words"].sum())
    errors = int(table["errors"].sum())
    summary: dict[str, float] = {
        "wer": errors / max(words, 1) if utterances else float("nan"),
        "cer": float("nan"),
        "substitutions": int(table["substitutions"].sum()),
        "deletions": int(table["deletions"].sum()),
        "insertions": int(table["insertions"].sum()),
        "words": words,
        "utterances": utterances,
        "sentence_error_rate": float((table["errors"] > 0).mean()) if utterances else float("nan"),
    }
    if utterances:
        references = [_collapse(text) for text in table["reference"]]
        hypotheses = [_collapse(text) for text in table["hypothesis"]]
        chars = jiwer.process_characters(references, hypotheses)
        n_chars = sum(len(ref) for ref in chars.references)
        summary["cer"] = (chars.substitutions + chars.deletions + chars.insertions) / max(n_chars, 1)
    return summary


def top_errors_figure(counts: pd.DataFrame, top: int = 10, title: str | None = None) -> Figure:
    """Bar charts of the most frequent substitutions, deletions and insertions.

    Args:
        counts: The output of :func:`error_counts`.
        top: Bars per panel at most.
        title: Figure title (default: a generic one).

    Returns:
        A figure with three horizontal bar panels, most frequent error at the top; a panel with
        no errors of its kind says "none".

    Raises:
        ValueError: If ``counts`` lacks columns of an error-count table or ``top`` < 1.
    """
    missing = [c for c in COUNT_COLUMNS if c not in counts.columns]
    if missing:
        raise ValueError(f"not an error-count table: missing columns {missing}")
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")

    ordered = _sort_counts(counts)
    shown = {kind: ordered[ordered["kind"] == kind].head(top) for kind in KINDS}
    # Height follows the longest panel so that labels of ten bars do not overlap.
    longest = max(1, *(len(part) for part in shown.values()))
    fig = Figure(figsize=(15, 1.6 + 0.38 * longest), layout="constrained")
    axes = fig.subplots(1, len(KINDS))
    for ax, kind in zip(axes, KINDS):
        part = shown[kind]
        ax.set_title(f"{_PANEL_TITLES[kind]}: {int(ordered.loc[ordered['kind'] == kind, 'count'].sum())}")
        if part.empty:
            ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes,
                    fontsize=14, color="0.45")
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        if kind == "substitution":
            labels = [f"{r} → {h}" for r, h in zip(part["reference"], part["hypothesis"])]
        elif kind == "deletion":
            labels = list(part["reference"])
        else:
            labels = list(part["hypothesis"])
        positions = np.arange(len(part))
        bars = ax.barh(positions, part["count"].to_numpy(), height=0.7, color=_PANEL_COLORS[kind])
        ax.set_yticks(positions, labels)
        # Inverted limits put the first (most frequent) bar on top; sizing every panel for the
        # longest one keeps bars equally thick, so a lone bar does not fill its whole panel.
        ax.set_ylim(longest - 0.5, -0.5)
        ax.bar_label(bars, padding=2)
        ax.margins(x=0.15)  # room for the count printed after the longest bar
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("count")
    fig.suptitle(title or f"Most frequent word errors (top {top} per kind)")
    return fig


def wer_comparison_figure(results: pd.DataFrame) -> Figure:
    """Grouped bars of WER and CER (percent) per model.

    Args:
        results: Columns ``model``, ``wer`` and ``cer`` (fractions), one line per model, in the
            order the bars should appear.

    Returns:
        A figure with one axes: a WER and a CER bar per model, each with its value printed.

    Raises:
        ValueError: If columns are missing or ``results`` is empty.
    """
    missing = [c for c in ("model", "wer", "cer") if c not in results.columns]
    if missing:
        raise ValueError(f"results needs columns model, wer, cer; missing {missing}")
    if results.empty:
        raise ValueError("results is empty: nothing to compare")

    models = [str(m) for m in results["model"]]
    wer = results["wer"].astype(float).to_numpy() * 100
    cer = results["cer"].astype(float).to_numpy() * 100
    positions = np.arange(len(models))
    width = 0.38

    fig = Figure(figsize=(max(5.0, 1.6 * len(models) + 2), 4.2), layout="constrained")
    ax = fig.subplots()
    for offset, values, label, color in ((-width / 2, wer, "WER", "tab:blue"), (width / 2, cer, "CER", "tab:green")):
        bars = ax.bar(positions + offset, values, width, label=label, color=color)
        ax.bar_label(bars, labels=[f"{v:.1f}%" for v in values], padding=2, fontsize=9)
    ax.set_xticks(positions, models)
    ax.set_ylabel("error rate (%)")
    top_value = float(np.nanmax(np.concatenate([wer, cer]))) if len(models) else 0.0
    # Headroom above the tallest bar for its printed value; a floor keeps all-zero results drawable.
    ax.set_ylim(0, max(top_value * 1.18, 1.0))
    ax.legend()
    ax.set_title("WER and CER per model")
    return fig
