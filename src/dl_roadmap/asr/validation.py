"""Every transcript row checked before training: text normalised, audio decoded and
measured, each problem reported (source, line, field, problem), and a run stopped when
too many rows are bad."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dl_roadmap.asr.audio import (
    TARGET_SAMPLE_RATE,
    AudioError,
    duration_seconds,
    is_target_wav,
    load_audio,
    write_wav,
)
from dl_roadmap.asr.splits import SPLIT_ALIASES, canonical_split
from dl_roadmap.asr.text import normalize_text, unknown_characters

logger = logging.getLogger(__name__)

REJECT_COLUMNS = ["source", "line", "audio_filepath", "field", "problem"]


class DataQualityError(ValueError):
    """Too many rows were rejected; the message gives the counts and the first reasons."""


def normalize_rows(rows: Iterable[dict[str, Any]], params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows with normalised text (see ``text.normalize_text``); the original kept as ``raw_text``.

    Args:
        rows: rows from the readers (broken rows pass unchanged).
        params: text normalisation parameters; None for the defaults.

    Returns:
        New row dicts.
    """
    return [row if "error" in row else {**row, "raw_text": row["text"], "text": normalize_text(row["text"], params)}
            for row in rows]


def _converted_path(audio: Path, audio_dir: Path) -> Path:
    # The source path's hash keeps same-named clips from different folders apart.
    digest = hashlib.sha1(str(audio).encode()).hexdigest()[:10]
    return audio_dir / f"{audio.stem}-{digest}.wav"


def _check_row(row: dict[str, Any], max_duration_s: float, min_duration_s: float, allowed_chars: str | None,
               sample_rate: int) -> tuple[list[tuple[str, str]], np.ndarray | None]:
    problems: list[tuple[str, str]] = []
    text = row.get("text", "")
    if not text.strip():
        raw = row.get("raw_text", "")
        problems.append(("text", f"empty text after normalisation (was {raw!r})" if raw.strip() else "empty text"))
    elif allowed_chars is not None and (bad := unknown_characters(text, allowed_chars)):
        problems.append(("text", f"characters the tokenizer cannot represent: {' '.join(map(repr, bad))}"))
    if "split" in row and canonical_split(row["split"]) is None:
        problems.append(("split", f"unknown split {row['split']!r}; expected one of {sorted(SPLIT_ALIASES)}"))
    audio = Path(row["audio_filepath"])
    if not audio.is_file():
        problems.append(("audio_filepath", "file not found"))
        return problems, None
    try:
        samples = load_audio(audio, sample_rate)
    except AudioError as error:
        problems.append(("audio_filepath", f"unreadable audio: {error}"))
        return problems, None
    duration = duration_seconds(samples, sample_rate)
    if duration <= 0:
        problems.append(("duration", "zero duration (no samples)"))
    elif duration < min_duration_s:
        problems.append(("duration", f"{duration:.2f} s is shorter than min_duration_s={min_duration_s}"))
    elif duration > max_duration_s:
        problems.append(("duration", f"{duration:.2f} s is longer than max_duration_s={max_duration_s}"))
    return problems, samples


def validate_rows(rows: Sequence[dict[str, Any]], *, max_duration_s: float = 20.0, min_duration_s: float = 0.0,
                  allowed_chars: str | Iterable[str] | None = None, sample_rate: int = TARGET_SAMPLE_RATE,
                  audio_dir: str | Path | None = None) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """Check every row; keep the good ones, report each problem of the bad ones.

    Each clip is decoded, so ``duration`` is measured, never taken from the input.

    Args:
        rows: rows from the readers (after ``normalize_rows``, so text is checked as trained on).
        max_duration_s: longest clip kept, in seconds.
        min_duration_s: shortest clip kept; clips without samples are always rejected.
        allowed_chars: characters the tokenizer can represent; None skips the check.
        sample_rate: rate audio is decoded at (and converted to), in Hz.
        audio_dir: where clips that are not yet 16-bit mono WAV at ``sample_rate`` are written
            converted (the clean row points there); None keeps every original file.

    Returns:
        ``(clean rows, rejects)``: clean rows carry ``audio_filepath``, ``duration``, ``text``,
        ``source``, ``line`` (and ``split``, canonical); rejects has one line per problem with
        columns ``source``, ``line``, ``audio_filepath``, ``field``, ``problem``.
    """
    allowed = None if allowed_chars is None else "".join(sorted(set(allowed_chars)))
    clean, rejects = [], []
    for row in rows:
        if "error" in row:
            problems, samples = [row["error"]], None
        else:
            problems, samples = _check_row(row, max_duration_s, min_duration_s, allowed, sample_rate)
        if problems:
            rejects += [{"source": row["source"], "line": row["line"], "audio_filepath": row["audio_filepath"],
                         "field": field, "problem": problem} for field, problem in problems]
            continue
        audio = Path(row["audio_filepath"])
        if audio_dir is not None and not is_target_wav(audio, sample_rate):
            audio = write_wav(_converted_path(audio, Path(audio_dir)), samples, sample_rate)
        good = {"audio_filepath": str(audio), "duration": round(duration_seconds(samples, sample_rate), 4),
                "text": row["text"], "source": row["source"], "line": row["line"]}
        if canonical_split(row.get("split")):
            good["split"] = canonical_split(row["split"])
        clean.append(good)
    return clean, pd.DataFrame(rejects, columns=REJECT_COLUMNS).astype({"line": "int64"})


def check_reject_threshold(n_rows: int, rejects: pd.DataFrame, max_reject_fraction: float, show: int = 5) -> None:
    """Stop when more rows were rejected than allowed; log how many were left out otherwise.

    Args:
        n_rows: rows read (good and bad).
        rejects: the rejects table of ``validate_rows`` (a row may have several lines).
        max_reject_fraction: largest fraction of rejected rows accepted (0.1 = 10 %).
        show: how many reasons the error quotes.

    Raises:
        DataQualityError: no rows at all, or the rejected fraction is above the limit.
    """
    if n_rows == 0:
        raise DataQualityError("no transcript rows were read: check the data sources")
    n_bad = len(rejects[["source", "line"]].drop_duplicates())
    if n_bad == 0:
        return
    fraction = n_bad / n_rows
    summary = f"{n_bad} of {n_rows} rows ({fraction:.1%}) were rejected"
    if fraction <= max_reject_fraction:
        logger.warning("%s and left out (max_reject_fraction=%s); see the rejects dataset", summary,
                       max_reject_fraction)
        return
    reasons = "\n".join(f"  {r.source}:{r.line} [{r.field}] {r.problem}" + (f" ({r.audio_filepath})" if r.audio_filepath
                                                                           else "")
                        for r in rejects.head(show).itertuples())
    raise DataQualityError(f"{summary}, more than max_reject_fraction={max_reject_fraction} "
                           f"({max_reject_fraction:.1%}). First reasons:\n{reasons}\n"
                           f"All {len(rejects)} problems are in the rejects table.")
