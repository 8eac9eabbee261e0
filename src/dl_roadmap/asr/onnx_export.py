"""Parakeet models exported to ONNX with NeMo's exporter.

:func:`export_onnx` runs NeMo's exporter (a transducer becomes ``encoder-<name>.onnx``
and ``decoder_joint-<name>.onnx``, a CTC model one ``<name>.onnx``); ``onnx_check``
compares the graphs with PyTorch in ONNX Runtime, ``onnx_decode`` transcribes with them
and ``measure.onnx_measure`` scores them. The preprocessor (audio to log-mel features) is
not exported: it runs in PyTorch.

Typical use::

    exported = export_onnx(model, "data/06_models/onnx")  # {"head", "parts", "files", "bytes"}
    check_onnx(model, "data/06_models/onnx", load_audio("clip.wav"))   # asr.onnx_check

NeMo is imported inside the functions (by the model's own ``export``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from torch import nn

from dl_roadmap.asr.model_io import file_size
from dl_roadmap.asr.quantize import copy_model, dynamic_int8_linears


def export_onnx(model: nn.Module, out_dir: str | Path, name: str = "model", opset: int | None = None
                ) -> dict[str, Any]:
    """Export a float NeMo ASR model to ONNX with NeMo's exporter.

    Graphs (NeMo's layout), all taking log-mel features ``audio_signal`` (B, n_mels, T)
    and ``length`` (B,), not audio: the preprocessor is not exported.

    - Transducers (TDT, RNN-T, and hybrids decoding with their transducer):
      ``encoder-<name>.onnx`` (features -> ``outputs`` (B, D, T'), ``encoded_lengths``) and
      ``decoder_joint-<name>.onnx`` (one step of prediction network and joint: encoder
      frames, previous tokens and LSTM states -> joint logits, not log-softmaxed, and new
      states; for TDT the duration logits follow the token logits).
    - CTC (and hybrids after ``model.change_decoding_strategy(decoder_type="ctc")``):
      ``<name>.onnx`` (features -> ``logprobs`` (B, T', V + 1); no lengths output).

    NeMo's exporter changes the module it exports (evaluation mode, gradients off, export
    flags on the joint and prediction network), so a copy is exported (on CPU) and the
    model passed in is left as it was; the copy needs as much memory again. Graphs over 2 GB get their
    weights in extra files beside them, which are counted too. The files are written in a
    staging folder inside ``out_dir`` and then moved in, so files of an earlier export are
    replaced only when the new export succeeded.

    Args:
        model: a float NeMo ASR model (quantized models cannot be exported: see Raises).
        out_dir: destination folder (created).
        name: base name of the files.
        opset: ONNX opset (NeMo's default, 17, when None).

    Returns:
        ``head`` (``"tdt"``, ``"rnnt"`` or ``"ctc"``: what the graphs decode with),
        ``parts`` (``{"encoder": path, "decoder_joint": path}`` or ``{"model": path}``),
        ``files`` (every file written, sorted) and ``bytes`` (their total size on disk).

    Raises:
        TypeError: an int8 model (PyTorch's ONNX exporter cannot trace dynamically
            quantized Linear layers; export the float model and quantize the ONNX graphs
            with ``onnxruntime.quantization.quantize_dynamic`` instead), or not a NeMo ASR
            model.
    """
    head = decoding_head(model)
    if dynamic_int8_linears(model):
        raise TypeError("cannot export an int8 model to ONNX: PyTorch's ONNX exporter cannot trace dynamically "
                        "quantized Linear layers; export the float model (and quantize the ONNX graphs with "
                        "onnxruntime.quantization.quantize_dynamic if int8 ONNX is wanted)")
    out_dir = Path(out_dir).expanduser().resolve()
    staging = out_dir / f".{name}.{os.getpid()}.export"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        exported = copy_model(model).cpu().eval()
        kwargs = {} if opset is None else {"onnx_opset_version": int(opset)}
        exported.export(str(staging / f"{name}.onnx"), **kwargs)
        del exported
        files = []
        for item in sorted(staging.rglob("*")):
            if item.is_file():
                target = out_dir / item.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(item, target)
                files.append(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    parts = onnx_parts(out_dir, name, head)
    return {"head": head, "parts": parts, "files": files, "bytes": file_size(files)}


def decoding_head(model: nn.Module) -> str:
    """What the model decodes with: ``"tdt"``, ``"rnnt"`` or ``"ctc"`` (a hybrid: its ``cur_decoder``).

    A joint with extra outputs is taken as TDT (the durations; multi-blank RNN-T, which
    also has extra outputs, is not a Parakeet head)."""
    if not (hasattr(model, "preprocessor") and hasattr(model, "encoder") and hasattr(model, "decoder")):
        raise TypeError(f"{type(model).__name__} is not a NeMo ASR model (preprocessor, encoder and decoder)")
    if hasattr(model, "joint") and getattr(model, "cur_decoder", "rnnt") != "ctc":
        return "tdt" if getattr(model.joint, "num_extra_outputs", 0) > 0 else "rnnt"
    return "ctc"


def onnx_parts(onnx_dir: str | Path, name: str, head: str) -> dict[str, Path]:
    """The graph files of a head in ``onnx_dir``; a missing one is an error that says how to export."""
    onnx_dir = Path(onnx_dir)
    if head == "ctc":
        parts = {"model": onnx_dir / f"{name}.onnx"}
    else:
        parts = {"encoder": onnx_dir / f"encoder-{name}.onnx", "decoder_joint": onnx_dir / f"decoder_joint-{name}.onnx"}
    missing = [str(path) for path in parts.values() if not path.is_file()]
    if missing:
        found = sorted(path.name for path in onnx_dir.glob("*.onnx")) if onnx_dir.is_dir() else []
        raise FileNotFoundError(f"a {head} model needs {', '.join(p.name for p in parts.values())} in {onnx_dir}; "
                                f"missing {', '.join(missing)} (ONNX files there: {found or 'none'}); "
                                f"export the model with export_onnx(model, {str(onnx_dir)!r}, name={name!r})")
    return parts
