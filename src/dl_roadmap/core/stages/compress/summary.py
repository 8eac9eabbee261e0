"""The compress stage's summary: every variant against fp32 in one table, and its figure.

Latency columns are ``latency_<batch>_ms`` with ``<batch>`` = ``b<size>`` for a batch size
(``latency_b256_ms``) or ``example`` for the task's example inputs as given; each has a
``speedup_<batch>`` column (fp32's latency over the variant's).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from dl_roadmap.core.tracking import metrics_for_mlflow

Row = dict[str, Any]


def batch_label(size: int | str) -> str:
    """``b<size>`` for a batch size, the name itself for ``"example"``."""
    return f"b{size}" if isinstance(size, int) else str(size)


def _latency_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c.startswith("latency_") and c.endswith("_ms")]


def summarize(metric: str, *rows: Row) -> tuple[pd.DataFrame, dict[str, dict[str, float]], Figure]:
    """One table of every variant against fp32, its MLflow metrics and a trade-off figure.

    Args:
        metric: the task's metric name (the table has ``test_<metric>``).
        rows: the variants' rows, fp32 among them.
    Returns:
        The table (one row per variant), metrics ``<variant>.<column>`` in the
        ``{"value", "step"}`` form, and the figure.
    """
    table = pd.DataFrame(rows)
    if "fp32" not in set(table["variant"]):
        raise ValueError("summarize: the fp32 row is missing; ratios are relative to it")
    fp32 = table.set_index("variant").loc["fp32"]
    score = f"test_{metric}"
    table[f"delta_{metric}"] = table[score] - fp32[score]
    table["size_mb"] = table["size_bytes"] / 1e6
    table["size_ratio"] = fp32["size_bytes"] / table["size_bytes"]  # > 1: smaller than fp32
    latencies = _latency_columns(table)
    for column in latencies:
        table[column.replace("latency_", "speedup_").removesuffix("_ms")] = fp32[column] / table[column]
    first = ["variant", score, f"delta_{metric}", "size_mb", "size_ratio"]
    speedups = [c.replace("latency_", "speedup_").removesuffix("_ms") for c in latencies]
    table = table[first + latencies + speedups + [c for c in table.columns if c not in {*first, *latencies, *speedups}]]
    metrics = metrics_for_mlflow({
        f"{row['variant']}.{column}": value
        for row in table.to_dict("records")
        for column, value in row.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    })
    return table, metrics, tradeoff_figure(table, score)


def tradeoff_figure(table: pd.DataFrame, score: str) -> Figure:
    """Left: test metric against size on disk. Right: CPU speed-up over fp32 per batch size."""
    figure = Figure(figsize=(12, 4.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    for i, row in enumerate(table.itertuples(index=False)):
        left.scatter(row.size_mb, getattr(row, score), color=f"C{i}", s=40)
        left.annotate(row.variant, (row.size_mb, getattr(row, score)), textcoords="offset points", xytext=(5, 4),
                      fontsize=8)
    left.set(xlabel="size on disk (MB)", ylabel=score, title=f"{score} against size")
    left.grid(alpha=0.3)
    labels = [c.removeprefix("latency_").removesuffix("_ms") for c in _latency_columns(table)]
    width = 0.8 / max(len(labels), 1)
    positions = range(len(table))
    for j, label in enumerate(labels):
        name = f"batch {label.removeprefix('b')}" if label.startswith("b") else f"{label} inputs"
        bars = right.bar([p + j * width for p in positions], table[f"speedup_{label}"], width, label=name)
        texts = [f"{ms:.1f} ms" for ms in table[f"latency_{label}_ms"]]
        right.bar_label(bars, labels=texts, fontsize=6, rotation=90, padding=2)
    right.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    right.set_xticks([p + width * (len(labels) - 1) / 2 for p in positions], table["variant"], rotation=30,
                     ha="right")
    right.set(ylabel="speed-up over fp32 (x)", title="CPU latency (median), speed-up over fp32")
    right.margins(y=0.2)
    right.legend(fontsize=8)
    return figure
