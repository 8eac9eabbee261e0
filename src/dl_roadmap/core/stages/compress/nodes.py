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
        weights: per_channel    # static int8 weight scales: per_channel or per_tensor (one
                                # scale for the whole tensor; depthwise convolutions suffer)
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
        batch_sizes: [1, 256]   # the task's example inputs cycled to each size; "example" =
                                # as the task gives them (a graph model's one node matrix...)
        repeats: 30             # timed runs; the median is reported
        warmup: 5               # untimed runs first
        threads: 1              # torch CPU threads while timing

Arguments shared by the nodes: ``task`` (bound by the factory), ``model`` (the area's trained
model, any ``nn.Module``: the fp32 reference and the teacher), ``config`` (the area's
training config), ``data`` (the area's catalog data, handed to the task's hooks),
``trainer`` (the shared trainer block), ``base`` (what ``task.build_model`` needs besides
the config, or None) and the parameter blocks above under their own names.

What the nodes take from the task (contract.py checks it when the pipeline is built):
example inputs (``task.inputs``: calibration, tracing, latency), the test score of a
variant (``task.test_score``), training (``training.py``: ``StageTask.train`` for
supervised tasks, else the ``train_model`` hook), ``build_model`` for the students and the
distillation loss. Fine-tuning, QAT and student training under fit log per-epoch metrics
to MLflow as ``compress/<variant>/...``. Both students (alone and distilled) start from the
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
from typing import Any

from torch import nn

from dl_roadmap.core.stages.compress.measure import (
    as_inputs, conv_channels, cycled, latency_ms, linear_units, load_file, log_model_file, parameter_count, saved_file,
)
from dl_roadmap.core.stages.compress.prune import (
    make_permanent, mask_smallest_weights, remove_conv_channels, remove_linear_units, sparsity,
)
from dl_roadmap.core.stages.compress.quantize import ScriptedModel, convert_qat, dynamic_int8, prepare_qat, static_int8
from dl_roadmap.core.stages.compress.settings import EXAMPLE, settings
from dl_roadmap.core.stages.compress.summary import Row, batch_label, summarize, tradeoff_figure
from dl_roadmap.core.stages.compress.training import budget, distill, fresh_student, student_setup, train_variant
from dl_roadmap.core.stages.task import StageTask

logger = logging.getLogger(__name__)

__all__ = ["distill_student", "measure_fp32", "prune_structured", "prune_unstructured", "quantize_dynamic_int8",
           "quantize_static_int8", "summarize", "tradeoff_figure", "train_qat_int8", "train_student"]


# --- baseline and post-training quantization ----------------------------------------------


def measure_fp32(task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, latency: dict[str, Any]) -> Row:
    """Measure the area's trained model, the reference of every ratio.

    Returns:
        Its row: test metric, size, latencies, parameters, conv channels.
    """
    timing = settings("latency", latency)
    return _measured(task, "fp32", _module(model), config, data, timing, log_file=False)


def quantize_dynamic_int8(
    task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, latency: dict[str, Any]
) -> tuple[nn.Module, Row]:
    """Post-training dynamic int8 (Linear weights int8, activations quantized per batch).

    Returns:
        The quantized model and its row.
    """
    timing = settings("latency", latency)
    compressed = dynamic_int8(_module(model))
    return compressed, _measured(task, "dynamic_int8", compressed, config, data, timing)


def quantize_static_int8(
    task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, calibration: dict[str, Any],
    latency: dict[str, Any],
) -> tuple[nn.Module, Row]:
    """Post-training static int8, activation ranges calibrated on validation inputs.

    Returns:
        The quantized model (TorchScript in a ScriptedModel) and its row.
    """
    params, timing = settings("calibration", calibration), settings("latency", latency)
    inputs = task.inputs(data, "val", limit=params["size"])
    batches = list(zip(*(tensor.split(params["batch_size"]) for tensor in inputs)))
    compressed = static_int8(_module(model), batches, params["weights"])
    row = _measured(task, "static_int8", compressed, config, data, timing, calibration_size=len(inputs[0]),
                    weights=params["weights"])
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
    fit_params = budget(config, settings("finetune", finetune), params["fit"])
    example = task.inputs(data, "val", limit=2)
    result = train_variant(task, prepare_qat(_module(model), example), config, data, None, _one_process(trainer),
                           name="compress/qat_int8", fit_params=fit_params)
    compressed = convert_qat(result.model, example)
    return compressed, _measured(task, "qat_int8", compressed, config, data, timing, **_training_facts(task, result))


def prune_unstructured(
    task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, trainer: dict[str, Any],
    finetune: dict[str, Any], unstructured_pruning: dict[str, Any], latency: dict[str, Any],
) -> tuple[nn.Module, Row]:
    """Zero the smallest weights, fine-tune with the masks on, make the zeros permanent.

    Returns:
        The pruned model (plain modules, zeros in its weights) and its row with ``sparsity``.
    """
    params, timing = settings("unstructured_pruning", unstructured_pruning), settings("latency", latency)
    fit_params = budget(config, settings("finetune", finetune), params["fit"])
    masked = mask_smallest_weights(_module(model), params["amount"])
    result = train_variant(task, masked, config, data, None, trainer, name="compress/pruned_unstructured",
                           fit_params=fit_params)
    compressed = make_permanent(result.model)
    row = _measured(task, "pruned_unstructured", compressed, config, data, timing,
                    sparsity=sparsity(compressed), **_training_facts(task, result))
    return compressed, row


def prune_structured(
    task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, trainer: dict[str, Any],
    finetune: dict[str, Any], structured_pruning: dict[str, Any], latency: dict[str, Any],
) -> tuple[nn.Module, Row]:
    """Remove convolution channels for real (a model without convolutions: hidden Linear
    units), then fine-tune the smaller model.

    Returns:
        The pruned model and its row with ``conv_channels_removed`` (or ``units_removed``),
        a fraction.
    """
    params, timing = settings("structured_pruning", structured_pruning), settings("latency", latency)
    fit_params = budget(config, settings("finetune", finetune), params["fit"])
    model = _module(model)
    example = task.inputs(data, "val", limit=2)
    convolutional = conv_channels(model) > 0
    smaller = (remove_conv_channels if convolutional else remove_linear_units)(model, example, params["ratio"])
    result = train_variant(task, smaller, config, data, None, trainer, name="compress/pruned_structured",
                           fit_params=fit_params)
    compressed = result.model
    if convolutional:
        removed = {"conv_channels_removed": 1 - conv_channels(compressed) / conv_channels(model)}
    else:
        removed = {"units_removed": 1 - linear_units(compressed) / linear_units(model)}
    row = _measured(task, "pruned_structured", compressed, config, data, timing, **removed,
                    **_training_facts(task, result))
    return compressed, row


def train_student(
    task: StageTask, config: dict[str, Any], data: Any, trainer: dict[str, Any], distillation: dict[str, Any],
    latency: dict[str, Any], base: Any = None,
) -> tuple[nn.Module, Row]:
    """The smaller student trained alone (on the hard labels): what distillation must beat.

    Returns:
        The student and its row.
    """
    params, timing = settings("distillation", distillation), settings("latency", latency)
    student_config, fit_params = student_setup(config, params)
    result = train_variant(task, fresh_student(task, student_config, base, fit_params), student_config, data, base,
                           trainer, name="compress/student", fit_params=fit_params)
    row = _measured(task, "student", result.model, student_config, data, timing, **_training_facts(task, result))
    return result.model, row


def distill_student(
    task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, trainer: dict[str, Any],
    distillation: dict[str, Any], latency: dict[str, Any], base: Any = None,
) -> tuple[nn.Module, Row]:
    """The same student trained with the teacher: the area's step plus the distillation loss,
    or (a task without a step) the distillation loss on the task's inputs.

    Returns:
        The distilled student and its row.
    """
    params, timing = settings("distillation", distillation), settings("latency", latency)
    student_config, fit_params = student_setup(config, params)
    student = fresh_student(task, student_config, base, fit_params)
    result = distill(task, student, copy.deepcopy(_module(model)).cpu(), student_config, data, base, trainer, params,
                     fit_params)
    student = result.model.student
    # Without a step of its own the student fits the teacher's outputs: its score is that loss.
    facts = _training_facts(task, result, None if task.supervised else "best_val_distill_loss")
    row = _measured(task, "distilled", student, student_config, data, timing, **facts)
    return student, row


# --- helpers ---------------------------------------------------------------------------------


def _module(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"compress: the model input is a {type(model).__name__}, not a torch nn.Module")
    return model


def _measured(
    task: StageTask, variant: str, model: nn.Module, config: dict[str, Any], data: Any,
    timing: dict[str, Any], log_file: bool = True, **facts: Any,
) -> Row:
    """Save and reload ``model`` as the catalog does, then measure the reloaded copy
    (``timing``: the checked latency block)."""
    with saved_file(model, variant) as path:
        loaded, size = load_file(path), path.stat().st_size
        if log_file:
            log_model_file(path)
    row: Row = {"variant": variant, f"test_{task.metric}": task.test_score(loaded, data, config), "size_bytes": size}
    for batch_size in timing["batch_sizes"]:
        if batch_size == EXAMPLE:
            inputs = as_inputs(task.inputs(data, "test"))
        else:
            inputs = cycled(task.inputs(data, "test", limit=batch_size), batch_size)
        row[f"latency_{batch_label(batch_size)}_ms"] = latency_ms(loaded, inputs, timing["repeats"], timing["warmup"],
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


def _training_facts(task: StageTask, result: Any, score_name: str | None = None) -> dict[str, float]:
    facts = {"epochs": len(result.history), "train_seconds": result.seconds}
    if result.best_score is not None:  # a train_model hook reports no validation score
        facts = {score_name or f"best_val_{task.metric}": result.best_score, **facts}
    return facts


def _one_process(trainer: dict[str, Any]) -> dict[str, Any]:
    return {**trainer, "devices": 1, "num_nodes": 1, "strategy": "auto"}
