"""Nodes of the compress stage: one per variant (its model and its measured row), then a summary.

Parameters (under ``<area>.compress`` in the area's parameters file; every block must be
present, keys left out take the defaults shown)::

    compress:
      finetune: {}              # fit overrides for every fine-tuning (QAT, both prunings),
                                # deep-merged over the area's config["fit"], e.g.
                                # {max_epochs: 3, optimizer: {lr: 0.0003}, scheduler: {name: none}}
      calibration:
        size: 1024              # held-out (validation) inputs that calibrate static int8
        batch_size: 128
      qat:
        fit: {}                 # over finetune, e.g. {max_epochs: 2, optimizer: {lr: 0.0001}}
      unstructured_pruning:
        amount: 0.5             # fraction of conv+linear weights zeroed (global magnitude ranking)
        fit: {}                 # over finetune
      structured_pruning:
        ratio: 0.5              # fraction of every convolution's output channels removed
        fit: {}                 # over finetune
      distillation:
        student: {}             # dotted config paths -> values that make the smaller student,
                                # e.g. {model.channels: [16, 32]} ({} = the teacher's architecture)
        temperature: 4.0        # softens both distributions in the soft-target loss
        alpha: 0.5              # loss = (1 - alpha) * hard + alpha * T^2 * KL(teacher || student)
        fit: {}                 # over the area's config["fit"]: students train from scratch
      latency:
        batch_sizes: [1, 256]
        repeats: 30             # timed runs; the median is reported
        warmup: 5               # untimed runs first
        threads: 1              # torch CPU threads while timing

Arguments shared by the nodes: ``task`` (bound by the factory), ``model`` (the area's trained
model: the fp32 reference and the teacher), ``config`` (the area's training config),
``data`` (what ``task.datasets`` turns into splits), ``trainer`` (the shared trainer block),
``base`` (what ``task.build_model`` needs besides the config, or None) and the parameter
blocks above under their own names.

Fine-tuning, QAT and student training go through ``StageTask.train`` (per-epoch metrics in
MLflow as ``compress/<variant>/...``). Both students (alone and distilled) start from the
same initial weights and the same budget; ``optimizer.lr_scale`` is dropped for them, as
nothing in a fresh student is pretrained. QAT trains in one process: a model prepared for
QAT cannot be pickled into ``ddp_spawn`` workers.

Every variant is saved with ``torch.save`` and loaded back before it is measured, so its
row describes the file the catalog keeps (static and QAT int8 are TorchScript inside that
file, see quantize.py).
"""

from __future__ import annotations

import copy
import logging
from functools import partial
from typing import Any

import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.core.stages.compress.distill import TeacherStudent, distillation_step
from dl_roadmap.core.stages.compress.measure import (
    conv_channels, example_batch, latency_ms, load_file, log_model_file, parameter_count, saved_file,
)
from dl_roadmap.core.stages.compress.prune import make_permanent, mask_smallest_weights, remove_conv_channels, sparsity
from dl_roadmap.core.stages.compress.quantize import ScriptedModel, convert_qat, dynamic_int8, prepare_qat, static_int8
from dl_roadmap.core.stages.compress.settings import fit_budget, settings
from dl_roadmap.core.stages.task import Splits, StageTask, inputs_of, with_overrides
from dl_roadmap.core.tracking import metrics_for_mlflow

logger = logging.getLogger(__name__)

Row = dict[str, Any]


# --- baseline and post-training quantization ----------------------------------------------


def measure_fp32(task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, latency: dict[str, Any]) -> Row:
    """Measure the area's trained model, the reference of every ratio.

    Returns:
        Its row: test metric, size, latencies, parameters, conv channels.
    """
    timing = settings("latency", latency)
    return _measured(task, "fp32", model, config, task.splits(data), timing, log_file=False)


def quantize_dynamic_int8(
    task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, latency: dict[str, Any]
) -> tuple[nn.Module, Row]:
    """Post-training dynamic int8 (Linear weights int8, activations quantized per batch).

    Returns:
        The quantized model and its row.
    """
    timing = settings("latency", latency)
    compressed = dynamic_int8(model)
    return compressed, _measured(task, "dynamic_int8", compressed, config, task.splits(data), timing)


def quantize_static_int8(
    task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, calibration: dict[str, Any],
    latency: dict[str, Any],
) -> tuple[nn.Module, Row]:
    """Post-training static int8, activation ranges calibrated on validation inputs.

    Returns:
        The quantized model (TorchScript in a ScriptedModel) and its row.
    """
    params, timing = settings("calibration", calibration), settings("latency", latency)
    splits = task.splits(data)
    inputs = inputs_of(splits["val"], limit=params["size"])
    compressed = static_int8(model, inputs.split(params["batch_size"]))
    row = _measured(task, "static_int8", compressed, config, splits, timing, calibration_size=len(inputs))
    return compressed, row


# --- trained variants -----------------------------------------------------------------------


def train_qat_int8(
    task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, trainer: dict[str, Any],
    finetune: dict[str, Any], qat: dict[str, Any], latency: dict[str, Any],
) -> tuple[nn.Module, Row]:
    """Quantization-aware training: fine-tune with fake int8, then convert to real int8.

    Returns:
        The int8 model (TorchScript in a ScriptedModel) and its row.
    """
    params, timing = settings("qat", qat), settings("latency", latency)
    budget = fit_budget(config, settings("finetune", finetune), params["fit"])
    splits = task.splits(data)
    example = inputs_of(splits["val"], limit=2)
    result = task.train(config, splits, None, _one_process(trainer), name="compress/qat_int8",
                        model=prepare_qat(model, example), fit_overrides=budget)
    compressed = convert_qat(result.model, example)
    return compressed, _measured(task, "qat_int8", compressed, config, splits, timing, **_training_facts(task, result))


def prune_unstructured(
    task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, trainer: dict[str, Any],
    finetune: dict[str, Any], unstructured_pruning: dict[str, Any], latency: dict[str, Any],
) -> tuple[nn.Module, Row]:
    """Zero the smallest weights, fine-tune with the masks on, make the zeros permanent.

    Returns:
        The pruned model (plain modules, zeros in its weights) and its row with ``sparsity``.
    """
    params, timing = settings("unstructured_pruning", unstructured_pruning), settings("latency", latency)
    budget = fit_budget(config, settings("finetune", finetune), params["fit"])
    splits = task.splits(data)
    result = task.train(config, splits, None, trainer, name="compress/pruned_unstructured",
                        model=mask_smallest_weights(model, params["amount"]), fit_overrides=budget)
    compressed = make_permanent(result.model)
    row = _measured(task, "pruned_unstructured", compressed, config, splits, timing,
                    sparsity=sparsity(compressed), **_training_facts(task, result))
    return compressed, row


def prune_structured(
    task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, trainer: dict[str, Any],
    finetune: dict[str, Any], structured_pruning: dict[str, Any], latency: dict[str, Any],
) -> tuple[nn.Module, Row]:
    """Remove convolution channels for real, then fine-tune the smaller model.

    Returns:
        The pruned model and its row with ``conv_channels_removed`` (fraction).
    """
    params, timing = settings("structured_pruning", structured_pruning), settings("latency", latency)
    budget = fit_budget(config, settings("finetune", finetune), params["fit"])
    splits = task.splits(data)
    example = inputs_of(splits["val"], limit=2)
    result = task.train(config, splits, None, trainer, name="compress/pruned_structured",
                        model=remove_conv_channels(model, example, params["ratio"]), fit_overrides=budget)
    compressed = result.model
    removed = 1 - conv_channels(compressed) / conv_channels(model)
    row = _measured(task, "pruned_structured", compressed, config, splits, timing,
                    conv_channels_removed=removed, **_training_facts(task, result))
    return compressed, row


def train_student(
    task: StageTask, config: dict[str, Any], data: Any, trainer: dict[str, Any], distillation: dict[str, Any],
    latency: dict[str, Any], base: Any = None,
) -> tuple[nn.Module, Row]:
    """The smaller student trained alone on the hard labels: what distillation must beat.

    Returns:
        The student and its row.
    """
    params, timing = settings("distillation", distillation), settings("latency", latency)
    student_config, budget = _student_setup(config, params)
    splits = task.splits(data)
    result = task.train(student_config, splits, base, trainer, name="compress/student",
                        model=_fresh_student(task, student_config, base, budget), fit_overrides=budget)
    row = _measured(task, "student", result.model, student_config, splits, timing, **_training_facts(task, result))
    return result.model, row


def distill_student(
    task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, trainer: dict[str, Any],
    distillation: dict[str, Any], latency: dict[str, Any], base: Any = None,
) -> tuple[nn.Module, Row]:
    """The same student trained with the area's step plus the teacher's soft targets.

    Returns:
        The distilled student and its row.
    """
    params, timing = settings("distillation", distillation), settings("latency", latency)
    student_config, budget = _student_setup(config, params)
    splits = task.splits(data)
    pair = TeacherStudent(_fresh_student(task, student_config, base, budget), copy.deepcopy(model).cpu())
    step = partial(distillation_step, hard_step=task.make_step(student_config),
                   temperature=float(params["temperature"]), alpha=float(params["alpha"]))
    result = task.train(student_config, splits, base, trainer, name="compress/distilled", model=pair, step=step,
                        fit_overrides=budget)
    student = result.model.student
    row = _measured(task, "distilled", student, student_config, splits, timing, **_training_facts(task, result))
    return student, row


# --- summary ---------------------------------------------------------------------------------


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
    latencies = [c for c in table.columns if c.startswith("latency_b") and c.endswith("_ms")]
    for column in latencies:
        table[column.replace("latency_", "speedup_").removesuffix("_ms")] = fp32[column] / table[column]
    first = ["variant", score, f"delta_{metric}", "size_mb", "size_ratio"]
    speedups = [c for c in table.columns if c.startswith("speedup_b")]
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
    speedups = [c for c in table.columns if c.startswith("speedup_b")]
    width = 0.8 / max(len(speedups), 1)
    positions = range(len(table))
    for j, column in enumerate(speedups):
        batch = column.removeprefix("speedup_b")
        bars = right.bar([p + j * width for p in positions], table[column], width, label=f"batch {batch}")
        labels = [f"{ms:.1f} ms" for ms in table[f"latency_b{batch}_ms"]]
        right.bar_label(bars, labels=labels, fontsize=6, rotation=90, padding=2)
    right.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    right.set_xticks([p + width * (len(speedups) - 1) / 2 for p in positions], table["variant"], rotation=30,
                     ha="right")
    right.set(ylabel="speed-up over fp32 (x)", title="CPU latency (median), speed-up over fp32")
    right.margins(y=0.2)
    right.legend(fontsize=8)
    return figure


# --- helpers ---------------------------------------------------------------------------------


def _measured(
    task: StageTask, variant: str, model: nn.Module, config: dict[str, Any], splits: Splits,
    timing: dict[str, Any], log_file: bool = True, **facts: Any,
) -> Row:
    """Save and reload ``model`` as the catalog does, then measure the reloaded copy
    (``timing``: the checked latency block)."""
    with saved_file(model, variant) as path:
        loaded, size = load_file(path), path.stat().st_size
        if log_file:
            log_model_file(path)
    row: Row = {"variant": variant, f"test_{task.metric}": task.evaluate(loaded, splits["test"], config),
                "size_bytes": size}
    for batch_size in timing["batch_sizes"]:
        inputs = example_batch(splits["test"], batch_size)
        row[f"latency_b{batch_size}_ms"] = latency_ms(loaded, inputs, timing["repeats"], timing["warmup"],
                                                       timing["threads"])
    if _is_quantized(loaded):
        row["format"] = "torchscript" if isinstance(loaded, ScriptedModel) else "pickle"
    else:  # packed int8 weights are not parameters: counts only mean something for float models
        row.update(format="pickle", parameters=parameter_count(loaded), conv_channels=conv_channels(loaded))
    row.update(facts)
    logger.info("compress %s: %s", variant, {k: v for k, v in row.items() if k != "variant"})
    return row


def _is_quantized(model: nn.Module) -> bool:
    return isinstance(model, ScriptedModel) or any(
        type(m).__module__.startswith("torch.ao.nn.quantized") for m in model.modules()
    )


def _training_facts(task: StageTask, result: Any) -> dict[str, float]:
    return {f"best_val_{task.metric}": result.best_score, "epochs": len(result.history),
            "train_seconds": result.seconds}


def _one_process(trainer: dict[str, Any]) -> dict[str, Any]:
    return {**trainer, "devices": 1, "num_nodes": 1, "strategy": "auto"}


def _student_setup(config: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The student's config and its fit budget (the area's, without lr_scale)."""
    student_config = with_overrides(config, params["student"])
    budget = fit_budget(student_config, params["fit"])
    if isinstance(budget.get("optimizer"), dict):
        budget["optimizer"] = {k: v for k, v in budget["optimizer"].items() if k != "lr_scale"}
    return student_config, budget


def _fresh_student(task: StageTask, config: dict[str, Any], base: Any, budget: dict[str, Any]) -> nn.Module:
    """A new student, seeded so that both students start from the same weights."""
    torch.manual_seed(int(budget.get("seed", 0)))
    return task.build_model(config, base)
