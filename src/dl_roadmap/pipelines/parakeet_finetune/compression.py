"""The compress node of parakeet_finetune: the fine-tuned model as fp32, int8 and ONNX,
each saved, reloaded and measured on the held-out test split (size, WER, CER, RTFx)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.asr.measure import measure, onnx_measure
from dl_roadmap.asr.model_io import file_size, save_nemo
from dl_roadmap.asr.onnx_export import export_onnx
from dl_roadmap.asr.quantize import load_int8, quantize_dynamic_int8, save_int8
from dl_roadmap.core.params import over_defaults

logger = logging.getLogger(__name__)

COMPRESS_DEFAULTS: dict[str, Any] = {
    "out_dir": "data/06_models/parakeet_finetune/compressed",  # conf sets it under the data root
    "onnx": True,
    "threads": 1,          # CPU threads while measuring speed (1: comparable across machines)
    "batch_size": 1,       # utterances per forward pass while measuring (ONNX decodes one at a time)
}
COLUMNS = ["variant", "file", "bytes", "size_ratio", "wer", "cer", "rtfx", "note"]


def compress_finetuned(model: nn.Module, splits: dict[str, list[dict]], params: dict[str, Any]
                       ) -> tuple[pd.DataFrame, Figure, dict[str, Any]]:
    """fp32 against dynamic int8 (every Linear layer) and ONNX (NeMo's exporter, run in
    ONNX Runtime), on the test split, one utterance at a time and with the same threads.

    Returns:
        The comparison table, a figure, and MLflow metrics (``compress_<variant>_<measure>``).
    """
    params = over_defaults(params, COMPRESS_DEFAULTS, "parakeet_finetune.compress")
    out_dir = Path(params["out_dir"])
    rows = splits["test"]
    threads, batch = int(params["threads"]), int(params["batch_size"])
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        records = [_fp32(model, rows, batch)]
        records.append(_int8(model, rows, batch, out_dir / "finetuned.int8.nemo"))
        if params["onnx"]:
            records.append(_onnx(model, rows, out_dir / "onnx", threads))
    finally:
        torch.set_num_threads(previous_threads)
    table = pd.DataFrame(records, columns=COLUMNS)
    table["size_ratio"] = table["bytes"] / table.loc[0, "bytes"]
    metrics = {f"compress_{row.variant}_{key}": {"value": float(getattr(row, key)), "step": 0}
               for row in table.itertuples() for key in ("bytes", "wer", "cer", "rtfx") if pd.notna(getattr(row, key))}
    for row in table.itertuples():
        logger.info("%-5s %6.2f MB  WER %s  RTFx %s %s", row.variant, row.bytes / 1e6, _fmt(row.wer), _fmt(row.rtfx),
                    row.note or "")
    return table, compression_figure(table), metrics


def _fp32(model: nn.Module, rows: list[dict], batch: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:  # the size of the .nemo as saved, not of a guess
        size = file_size(save_nemo(model, Path(folder) / "fp32.nemo"))
    return {"variant": "fp32", "file": "finetuned.nemo", "bytes": size, **_scores(measure(model, rows, batch)),
            "note": ""}


def _int8(model: nn.Module, rows: list[dict], batch: int, path: Path) -> dict[str, Any]:
    save_int8(quantize_dynamic_int8(model), path)
    reloaded = load_int8(path)  # measured as a user would get it back from disk
    return {"variant": "int8", "file": str(path), "bytes": file_size(path), **_scores(measure(reloaded, rows, batch)),
            "note": "dynamic int8 Linear layers (PyTorch)"}


def _onnx(model: nn.Module, rows: list[dict], folder: Path, threads: int) -> dict[str, Any]:
    exported = export_onnx(model, folder, name="finetuned")
    record = {"variant": "onnx", "file": str(folder), "bytes": exported["bytes"], "wer": float("nan"),
              "cer": float("nan"), "rtfx": float("nan"), "note": f"{exported['head']}: " + ", ".join(exported["parts"])}
    try:
        record.update(_scores(onnx_measure(model, folder, rows, name="finetuned", threads=threads)))
    except NotImplementedError as reason:  # exported and checkable, not decodable here
        record["note"] += f"; not transcribed: {reason}"
        logger.warning("ONNX export of a %s model cannot be transcribed here: %s", exported["head"], reason)
    return record


def _scores(result: dict[str, Any]) -> dict[str, float]:
    return {"wer": result["wer"], "cer": result["cer"], "rtfx": result["rtfx"]}


def _fmt(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.3f}" if value < 10 else f"{value:.0f}"


def compression_figure(table: pd.DataFrame) -> Figure:
    """Size, WER and speed of each variant, side by side."""
    figure = Figure(figsize=(11, 3.4), layout="constrained")
    axes = figure.subplots(1, 3)
    colours = [f"C{i}" for i in range(len(table))]
    for ax, (column, title, scale) in zip(axes, [("bytes", "file size (MB)", 1e-6), ("wer", "test WER (%)", 100),
                                                 ("rtfx", "RTFx (audio s / compute s)", 1)]):
        values = table[column].astype(float) * scale
        bars = ax.bar(table["variant"], values.fillna(0), color=colours)
        for bar, value in zip(bars, values):
            ax.annotate("n/a" if pd.isna(value) else f"{value:.3g}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=9)
        ax.set_title(title)
        ax.margins(y=0.15)
    figure.suptitle("Fine-tuned model: fp32 vs int8 vs ONNX (held-out test split, CPU)")
    return figure
