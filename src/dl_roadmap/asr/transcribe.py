"""Transcription of audio files with a NeMo model's own decoding (greedy unless changed).

NeMo is not imported here: the function calls the model it is given."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path

from torch import nn

from dl_roadmap.asr.manifest import MANIFEST_SUFFIXES, read_complete_manifest


def transcribe(model: nn.Module, audio: str | Path | Sequence[str | Path], batch_size: int = 8) -> list[str]:
    """Transcribe audio files with the model's decoding (greedy unless changed).

    Args:
        model: a NeMo ASR model.
        audio: a manifest (``.json``/``.jsonl``), one audio file, or a list of audio files.
        batch_size: utterances per forward pass.

    Returns:
        One transcript per audio file, in order.
    """
    from omegaconf import open_dict

    paths = _audio_paths(audio)
    if not paths:
        return []
    if model.cfg.get("validation_ds") is None:
        # NeMo's transcribe reads use_start_end_token from the validation set's config, which a
        # model built from parameters (never given a validation manifest) does not have.
        with open_dict(model.cfg):
            model.cfg.validation_ds = {"use_start_end_token": False}
    # NeMo's non-Lhotse loader keeps the input order; no worker processes on CPU.
    options = {"batch_size": int(batch_size), "num_workers": 0, "verbose": False}
    if "use_lhotse" in inspect.signature(model.transcribe).parameters:  # transducer classes only, in NeMo 3.0
        options["use_lhotse"] = False
    outputs = model.transcribe(paths, **options)
    if isinstance(outputs, tuple):  # some model classes return (best, all) hypotheses
        outputs = outputs[0]
    return [" ".join(str(getattr(item, "text", item)).split()) for item in outputs]


def _audio_paths(audio: str | Path | Sequence[str | Path]) -> list[str]:
    if isinstance(audio, (str, Path)):
        if Path(audio).suffix in MANIFEST_SUFFIXES:
            return [row["audio_filepath"] for row in read_complete_manifest(audio)]
        return [str(audio)]
    return [str(path) for path in audio]
