"""Word and character error rates and speed of a model on a test set: transcribed by the
model itself (:func:`measure`) or by its graphs exported to ONNX, in ONNX Runtime
(:func:`onnx_measure`), scored the same way.

Typical use::

    measure(model, rows)                                                  # {"wer", "cer", "rtfx", ...}
    onnx_measure(model, "data/06_models/onnx", "test_manifest.json", threads=1)
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dl_roadmap.asr.manifest import read_complete_manifest
from dl_roadmap.asr.onnx_decode import OnnxTranscriber
from dl_roadmap.asr.transcribe import transcribe


def measure(model: nn.Module, rows: Sequence[Mapping[str, Any]] | str | Path, batch_size: int = 8) -> dict[str, Any]:
    """Word and character error rates and inference speed on a test set.

    Args:
        model: a NeMo ASR model.
        rows: manifest rows (``audio_filepath``, ``text``, optionally ``duration``) or a
            manifest path.
        batch_size: utterances per forward pass.

    Returns:
        ``wer`` and ``cer`` (corpus level: total edits / total reference words or
        characters), ``rtfx`` (audio seconds / seconds of transcription, audio decoding
        included), ``audio_seconds``, ``inference_seconds``, ``utterances``, ``words`` and
        ``hypotheses`` (the transcripts, in row order).
    """
    import jiwer
    import soundfile as sf

    if isinstance(rows, (str, Path)):
        rows = read_complete_manifest(rows)
    if not rows:
        raise ValueError("measure: no rows to score")
    references = [" ".join(str(row["text"]).split()) for row in rows]
    paths = [str(row["audio_filepath"]) for row in rows]
    audio_seconds = sum(float(row["duration"]) if row.get("duration") else sf.info(path).duration
                        for row, path in zip(rows, paths))
    started = time.perf_counter()
    hypotheses = transcribe(model, paths, batch_size=batch_size)
    seconds = time.perf_counter() - started
    output = jiwer.process_words(references, hypotheses)
    chars = jiwer.process_characters(references, hypotheses)
    words = sum(len(reference.split()) for reference in references)
    return {
        "wer": float(output.wer),
        "cer": float(chars.cer),
        "rtfx": audio_seconds / seconds if seconds > 0 else float("inf"),
        "audio_seconds": audio_seconds,
        "inference_seconds": seconds,
        "utterances": len(rows),
        "words": words,
        "hypotheses": hypotheses,
    }


def onnx_measure(model: nn.Module, onnx_dir: str | Path, rows: Sequence[Mapping[str, Any]] | str | Path, *,
                 name: str = "model", threads: int | None = None) -> dict[str, Any]:
    """Word and character error rates and speed of ONNX Runtime transcription, as ``measure`` reports them.

    Transcribes with :func:`onnx_transcribe` (one utterance at a time, so ``rtfx`` is
    single-stream speed; compare with ``measure(model, rows, batch_size=1)``). Session
    creation is not timed; audio decoding and features are, as in ``measure``.

    Args:
        model: the model the graphs were exported from.
        onnx_dir: the folder given to :func:`export_onnx`.
        rows: manifest rows (``audio_filepath``, ``text``, optionally ``duration``) or a
            manifest path.
        name: the ``name`` given to :func:`export_onnx`.
        threads: ONNX Runtime threads (default: ``torch.get_num_threads()``).

    Returns:
        ``wer``, ``cer``, ``rtfx``, ``audio_seconds``, ``inference_seconds``,
        ``utterances``, ``words``, ``hypotheses`` (as ``measure``) and ``threads``.

    Raises:
        ValueError: no rows, or unreadable manifest lines (and what :func:`onnx_transcribe`
            raises).
    """
    import jiwer
    import soundfile as sf

    if isinstance(rows, (str, Path)):
        rows = read_complete_manifest(rows)
    if not rows:
        raise ValueError("onnx_measure: no rows to score")
    threads = torch.get_num_threads() if threads is None else int(threads)
    transcriber = OnnxTranscriber(model, onnx_dir, name, threads)
    references = [" ".join(str(row["text"]).split()) for row in rows]
    paths = [str(row["audio_filepath"]) for row in rows]
    audio_seconds = sum(float(row["duration"]) if row.get("duration") else sf.info(path).duration
                        for row, path in zip(rows, paths))
    started = time.perf_counter()
    hypotheses = transcriber(paths)
    seconds = time.perf_counter() - started
    return {
        "wer": float(jiwer.process_words(references, hypotheses).wer),
        "cer": float(jiwer.process_characters(references, hypotheses).cer),
        "rtfx": audio_seconds / seconds if seconds > 0 else float("inf"),
        "audio_seconds": audio_seconds,
        "inference_seconds": seconds,
        "utterances": len(rows),
        "words": sum(len(reference.split()) for reference in references),
        "hypotheses": hypotheses,
        "threads": threads,
    }
