"""ASR manifests: read a user's transcripts into rows, and write clean rows as NeMo manifests.

A *row* is a dict with ``audio_filepath`` (absolute), ``text``, ``source`` (file it came
from), ``line`` (1-based line in that file) and optionally ``split``; validation adds the
measured ``duration``. A line that cannot be parsed becomes a row with an ``error`` entry
``(field, problem)`` instead, so it reaches the rejects report rather than crashing the read
or vanishing.

Inputs:

- NeMo manifest (JSON lines with ``audio_filepath``, ``duration``, ``text``); relative audio
  paths are resolved against the manifest's folder (then the working folder, as NeMo does).
- LJSpeech ``metadata.csv``: ``id|transcript|normalized transcript``, no header, audio at
  ``wavs/<id>.wav`` next to it.
- A CSV/TSV with a header naming the audio and text columns (e.g. ``audio_filepath,text``,
  Common Voice's ``path<TAB>sentence``); an optional ``split`` column.

Rows are checked in ``validation`` and split in ``splits`` before they are written.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dl_roadmap.core.files import atomic_write

AUDIO_COLUMNS = ("audio_filepath", "audio_filename", "audio_path", "audio", "path", "file", "filename",
                 "file_name", "wav", "wav_filename", "wav_path")
TEXT_COLUMNS = ("text", "transcript", "transcription", "sentence", "normalized_text", "normalized_transcript")
MANIFEST_SUFFIXES = (".json", ".jsonl", ".manifest")


# --- reading ---------------------------------------------------------------------------


def _row(source: Path, line: int, audio: str, text: str, split: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"audio_filepath": audio, "text": text, "source": str(source), "line": line}
    if split not in (None, ""):
        row["split"] = split
    return row


def _broken(source: Path, line: int, field: str, problem: str, audio: str = "") -> dict[str, Any]:
    return {"audio_filepath": audio, "text": "", "source": str(source), "line": line, "error": (field, problem)}


def _resolve(audio: str, folder: Path) -> str:
    """An absolute audio path: as given, or relative to ``folder``, else to the working folder."""
    path = Path(os.path.expanduser(audio))
    if path.is_absolute():
        return os.path.abspath(path)
    beside = folder / path
    # NeMo falls back to the working folder when the file is not beside the manifest; so do we,
    # so that project-relative manifests written by this module read back the same.
    if not beside.exists() and path.exists():
        return os.path.abspath(path)
    return os.path.abspath(beside)


def read_nemo_manifest(path: str | Path, split: str | None = None) -> list[dict[str, Any]]:
    """Rows of a NeMo JSON-lines manifest (``duration`` is ignored: it is measured later).

    Args:
        path: the manifest; blank lines are skipped.
        split: split for rows that carry no ``split`` field (None: decided by ``split_rows``).

    Returns:
        One row per non-blank line; broken lines (invalid JSON, not an object, a missing
        or non-string field) as rows with an ``error``.
    """
    path = Path(path)
    rows = []
    with open(path, encoding="utf-8-sig") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                rows.append(_broken(path, number, "json", f"not valid JSON: {error.msg} at column {error.colno}"))
                continue
            if not isinstance(item, dict):
                rows.append(_broken(path, number, "json", f"not a JSON object but {type(item).__name__}"))
                continue
            audio = item.get("audio_filepath", item.get("audio_filename"))  # NeMo accepts both
            text = item.get("text")
            if audio is None or text is None:
                field = "audio_filepath" if audio is None else "text"
                rows.append(_broken(path, number, field, "missing field", str(audio or "")))
            elif not isinstance(audio, str) or not isinstance(text, str):
                field, value = ("audio_filepath", audio) if not isinstance(audio, str) else ("text", text)
                rows.append(_broken(path, number, field, f"not a string: {value!r}", str(audio)))
            else:
                rows.append(_row(path, number, _resolve(audio, path.parent), text, item.get("split", split)))
    return rows


def read_complete_manifest(path: str | Path) -> list[dict[str, Any]]:
    """``read_nemo_manifest`` for a manifest that must be whole: any broken line is a
    ValueError naming the file, how many lines are broken, and the first one's problem."""
    rows = read_nemo_manifest(path)
    broken = [row for row in rows if "error" in row]
    if broken:
        field, problem = broken[0]["error"]
        raise ValueError(f"{path}: {len(broken)} unreadable manifest line(s); line {broken[0]['line']}: "
                         f"{field}: {problem}")
    return rows


def _sniff_delimiter(first_line: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    # Pipes and tabs are rare in transcripts, commas are not: prefer them when present.
    for candidate in ("|", "\t"):
        if candidate in first_line:
            return candidate
    return ","


def _find_column(header: Sequence[str], wanted: str | None, known: Sequence[str], kind: str, path: Path) -> int | None:
    names = [name.strip().lower() for name in header]
    if wanted is not None:
        if wanted.strip().lower() not in names:
            raise ValueError(f"{path}: no {kind} column named {wanted!r} in the header {list(header)}")
        return names.index(wanted.strip().lower())
    return next((names.index(name) for name in known if name in names), None)


def read_transcript_table(path: str | Path, *, audio_dir: str | Path | None = None, audio_column: str | None = None,
                          text_column: str | None = None, delimiter: str | None = None, split: str | None = None,
                          ljspeech: bool | None = None, ljspeech_text: str = "normalized") -> list[dict[str, Any]]:
    """Rows of a transcript table: LJSpeech ``metadata.csv`` or a CSV/TSV with a header.

    Args:
        path: the table (UTF-8; a byte-order mark is ignored; blank lines are skipped).
        audio_dir: folder audio paths are relative to (default: LJSpeech ``<table folder>/wavs``,
            otherwise the table's folder).
        audio_column: header name of the audio column (default: the first known name, e.g.
            ``audio_filepath``, ``path``, ``file``, ``wav_filename``).
        text_column: header name of the text column (default: ``text``, ``transcript``, ``sentence``, ...).
        delimiter: field separator (default: tab for .tsv, else ``|`` or tab if the first line
            has one, else comma).
        split: split for rows without a ``split`` column value.
        ljspeech: force (True) or forbid (False) the headerless LJSpeech layout; None: it is
            used when the first line names no audio and text columns and is pipe-separated.
        ljspeech_text: ``"normalized"`` (third column, numbers and abbreviations spelled out;
            the second when the third is empty) or ``"raw"`` (second column).

    Returns:
        One row per record; records with too few fields as rows with an ``error``.

    Raises:
        ValueError: the layout cannot be told (name the columns) or a named column is absent.
    """
    path = Path(path)
    with open(path, encoding="utf-8-sig", newline="") as file:
        content = file.read()
    first_line = next((line for line in content.splitlines() if line.strip()), "")
    delimiter = delimiter or _sniff_delimiter(first_line, path.suffix.lower())
    header = next(csv.reader([first_line], delimiter=delimiter), [])
    audio_index = _find_column(header, audio_column, AUDIO_COLUMNS, "audio", path)
    text_index = _find_column(header, text_column, TEXT_COLUMNS, "text", path)
    if ljspeech is None:
        ljspeech = (audio_index is None or text_index is None) and delimiter == "|"
    if ljspeech:
        return _read_ljspeech(path, content, Path(audio_dir) if audio_dir else path.parent / "wavs", split,
                              ljspeech_text)
    if audio_index is None or text_index is None:
        raise ValueError(f"{path}: cannot tell the audio and text columns from the first line {first_line!r}; "
                         f"give audio_column and text_column (header names), or use LJSpeech's id|text layout")
    split_index = _find_column(header, None, ("split",), "split", path)
    folder = Path(audio_dir) if audio_dir else path.parent
    reader = csv.reader(content.splitlines(keepends=True), delimiter=delimiter)
    rows, header_seen = [], False
    for record in reader:
        if not any(field.strip() for field in record):
            continue  # blank lines
        if not header_seen:
            header_seen = True
            continue
        needed = max(audio_index, text_index) + 1
        if len(record) < needed:
            rows.append(_broken(path, reader.line_num, "row", f"expected at least {needed} fields, got {len(record)}"))
            continue
        audio = record[audio_index].strip()
        if not audio:
            rows.append(_broken(path, reader.line_num, "audio_filepath", "empty audio path"))
            continue
        row_split = record[split_index].strip() if split_index is not None and split_index < len(record) else ""
        rows.append(_row(path, reader.line_num, _resolve(audio, folder), record[text_index], row_split or split))
    return rows


def _read_ljspeech(path: Path, content: str, wavs: Path, split: str | None, text_choice: str) -> list[dict[str, Any]]:
    if text_choice not in ("normalized", "raw"):
        raise ValueError(f"ljspeech_text={text_choice!r}; expected 'normalized' or 'raw'")
    rows = []
    # LJSpeech does not quote fields and its transcripts contain quotes: split on pipes only.
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < 2 or not fields[0].strip():
            rows.append(_broken(path, number, "row", f"expected 'id|transcript|normalized transcript', "
                                                     f"got {len(fields)} field(s)"))
            continue
        clip = fields[0].strip()
        text = fields[2] if text_choice == "normalized" and len(fields) > 2 and fields[2].strip() else fields[1]
        audio = clip if Path(clip).suffix else f"{clip}.wav"
        rows.append(_row(path, number, _resolve(audio, wavs), text, split))
    return rows


def read_source(spec: str | Path | Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of one transcript source, its format told by its name or given.

    Args:
        spec: a path, or a dict with ``path`` and optionally ``format`` (``"auto"``, ``"nemo"``,
            ``"ljspeech"``, ``"table"``), ``split`` and the options of ``read_transcript_table``
            (``audio_dir``, ``audio_column``, ``text_column``, ``delimiter``, ``ljspeech_text``).
            A folder means its ``metadata.csv`` (or its one .csv/.tsv).

    Returns:
        The rows (see ``read_nemo_manifest`` and ``read_transcript_table``).
    """
    options = dict(spec) if isinstance(spec, Mapping) else {"path": spec}
    path = Path(options.pop("path"))
    fmt = options.pop("format", "auto")
    if path.is_dir():
        tables = [path / "metadata.csv"] if (path / "metadata.csv").is_file() else sorted(
            p for p in path.iterdir() if p.suffix.lower() in (".csv", ".tsv"))
        if len(tables) != 1:
            raise ValueError(f"{path}: expected a metadata.csv or exactly one .csv/.tsv, found {len(tables)}")
        path = tables[0]
    if not path.is_file():
        raise FileNotFoundError(f"transcript source not found: {path}")
    if fmt == "auto":
        fmt = "nemo" if path.suffix.lower() in MANIFEST_SUFFIXES else "table"
    if fmt == "nemo":
        split = options.pop("split", None)
        if options:
            raise ValueError(f"{path}: options {sorted(options)} do not apply to a NeMo manifest")
        return read_nemo_manifest(path, split=split)
    if fmt in ("table", "ljspeech"):
        return read_transcript_table(path, ljspeech=True if fmt == "ljspeech" else None, **options)
    raise ValueError(f"unknown source format {fmt!r}; expected auto, nemo, ljspeech or table")


def read_sources(specs: Iterable[str | Path | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows of several sources, in order (e.g. one manifest per split).

    Args:
        specs: see ``read_source``.

    Returns:
        All rows, concatenated.
    """
    return [row for spec in specs for row in read_source(spec)]


# --- writing -----------------------------------------------------------------------------


def to_manifest_records(rows: Iterable[Mapping[str, Any]], relative_to: str | Path | None = None
                        ) -> list[dict[str, Any]]:
    """NeMo manifest records (``audio_filepath``, ``duration``, ``text``) of clean rows.

    Args:
        rows: clean rows (with a measured ``duration``).
        relative_to: write audio paths relative to this folder (e.g. the project root; NeMo
            then needs to run from there); None writes absolute paths.

    Returns:
        One dict per row, in order.
    """
    records = []
    for row in rows:
        missing = [key for key in ("audio_filepath", "duration", "text") if key not in row]
        if missing:  # e.g. rows read from a manifest but not validated (duration is measured there)
            where = f"{row.get('source', '?')}:{row.get('line', '?')}"
            raise ValueError(f"{where}: row lacks {missing}; validate rows (validate_rows) before writing them")
        audio = os.path.abspath(row["audio_filepath"])
        if relative_to is not None:
            audio = Path(os.path.relpath(audio, os.path.abspath(relative_to))).as_posix()
        records.append({"audio_filepath": audio, "duration": float(row["duration"]), "text": row["text"]})
    return records


def write_manifest(rows: Iterable[Mapping[str, Any]], path: str | Path, relative_to: str | Path | None = None) -> Path:
    """Write clean rows as a NeMo JSON-lines manifest, atomically (temporary file, then rename).

    Args:
        rows: clean rows.
        path: destination; parent folders are created.
        relative_to: see ``to_manifest_records``.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    records = to_manifest_records(rows, relative_to)  # a bad row fails here, before any file is touched
    with atomic_write(path) as tmp, open(tmp, "w", encoding="utf-8") as file:
        for record in records:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
