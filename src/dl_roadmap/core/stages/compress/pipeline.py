"""``compress_pipeline``: the compress stage as a Kedro modular pipeline under ``<area>.compress``.

Nodes (parameters documented in nodes.py): ``measure_fp32``, one node per variant
(``quantize_dynamic_int8``, ``quantize_static_int8``, ``train_qat_int8``,
``prune_unstructured``, ``prune_structured``, ``train_student``, ``distill_student``),
and ``summarize``. Outputs, catalog patterns in conf/base/catalog_stages_compress.yml::

    <area>.compress.<variant>_model    the compressed model (TorchModelDataset, versioned)
    <area>.compress.<variant>_row      its measurements (JSON), fp32_row included
    <area>.compress.results            the table of all variants (CSV, also in MLflow)
    <area>.compress.metrics            MLflow metrics compress.<variant>.<column>
    <area>.compress.tradeoffs_plot     metric against size, speed-up per batch size (PNG)
"""

from __future__ import annotations

from typing import Callable, Iterable

from kedro.pipeline import Node, Pipeline, pipeline

from dl_roadmap.core.stages.compress import nodes
from dl_roadmap.core.stages.contract import check_compress
from dl_roadmap.core.stages.task import StageTask, bind

VARIANTS = (
    "dynamic_int8", "static_int8", "qat_int8", "pruned_unstructured", "pruned_structured", "student", "distilled",
)

_TRAINING = {"trainer": "params:trainer"}

# variant -> (node function, node name, its inputs besides config, data and latency)
_VARIANT_NODES: dict[str, tuple[Callable, str, dict[str, str]]] = {
    "dynamic_int8": (nodes.quantize_dynamic_int8, "quantize_dynamic_int8", {"model": "model"}),
    "static_int8": (nodes.quantize_static_int8, "quantize_static_int8",
                    {"model": "model", "calibration": "params:calibration"}),
    "qat_int8": (nodes.train_qat_int8, "train_qat_int8",
                 {"model": "model", **_TRAINING, "finetune": "params:finetune", "qat": "params:qat"}),
    "pruned_unstructured": (nodes.prune_unstructured, "prune_unstructured",
                            {"model": "model", **_TRAINING, "finetune": "params:finetune",
                             "unstructured_pruning": "params:unstructured_pruning"}),
    "pruned_structured": (nodes.prune_structured, "prune_structured",
                          {"model": "model", **_TRAINING, "finetune": "params:finetune",
                           "structured_pruning": "params:structured_pruning"}),
    "student": (nodes.train_student, "train_student", {**_TRAINING, "distillation": "params:distillation"}),
    "distilled": (nodes.distill_student, "distill_student",
                  {"model": "model", **_TRAINING, "distillation": "params:distillation"}),
}
_USES_BASE = {"student", "distilled"}  # they build a fresh model with task.build_model


def compress_pipeline(
    task: StageTask,
    *,
    area: str,
    model: str,
    config: str,
    data: str,
    base: str | None = None,
    variants: Iterable[str] = VARIANTS,
) -> Pipeline:
    """The trained ``model`` compressed every way in ``variants``, each measured against it.

    Args:
        task: the area's StageTask. What the chosen variants need from it (contract.py:
            example inputs, a test score, training, build_model, a distillation loss) is
            checked here, so a task that lacks it fails when the pipeline is built, with
            the area and the missing hooks named.
        area: the area's name: namespace ``<area>.compress``, parameters under
            ``<area>: {compress: ...}``, outputs under data/*/<area>/compress/.
        model: catalog dataset of the trained model (the fp32 baseline and the teacher).
        config: the area's training config, ``params:<key>`` or a dataset (e.g. a tuned config).
        data: the area's catalog data, handed to the task's hooks (``datasets``, ``example_inputs``...).
        base: optional catalog dataset handed to ``task.build_model`` for the students.
        variants: the variants to build, a subset of VARIANTS (fp32 is always measured).
    """
    variants = list(variants)
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ValueError(f"compress_pipeline(variants=...): unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    chosen = [v for v in VARIANTS if v in variants]
    check_compress(task, area, chosen)
    common = {"config": "config", "data": "data", "latency": "params:latency"}
    stage_nodes = [
        Node(bind(nodes.measure_fp32, task), {"model": "model", **common}, "fp32_row", name="measure_fp32"),
    ]
    for variant in chosen:
        function, name, inputs = _VARIANT_NODES[variant]
        with_base = {"base": "base"} if base and variant in _USES_BASE else {}
        stage_nodes.append(Node(bind(function, task), {**inputs, **common, **with_base},
                                [f"{variant}_model", f"{variant}_row"], name=name))
    rows = ["fp32_row"] + [f"{variant}_row" for variant in chosen]
    stage_nodes.append(Node(bind(nodes.summarize, task.metric), rows, ["results", "metrics", "tradeoffs_plot"],
                            name="summarize"))
    stage = Pipeline(stage_nodes)
    used = stage.inputs()  # map only what the chosen variants use: Kedro refuses unused mappings
    return pipeline(
        stage,
        namespace=f"{area}.compress",
        inputs={"model": model, "config": config, "data": data, **({"base": base} if "base" in used else {})},
        parameters={"params:trainer": "params:trainer"} if "params:trainer" in used else None,
    )
