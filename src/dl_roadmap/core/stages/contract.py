"""What each stage needs from a StageTask, checked when the stage's pipeline is built.

``tune_pipeline``, ``compress_pipeline`` and ``explain_pipeline`` call these checks, and
Kedro builds every pipeline when the registry loads, so a task that cannot give what its
stages need fails at ``kedro registry list`` (and at the start of any ``kedro run``) with
one message naming the area, the stage, what asks and which hooks are missing::

    compress stage for area 'rl_agent': variant 'distilled' needs StageTask.distill_loss,
    which the task does not provide

Needs are written as alternatives: a supervised task (datasets + make_step) gives most of
them by itself, any other task states them with the optional hooks.
"""

from __future__ import annotations

from collections.abc import Iterable

from dl_roadmap.core.stages.task import StageTask


class StageWiringError(ValueError):
    """A stage wired to a task that cannot give what the stage needs."""


# need -> (description in messages, test on the task)
_NEEDS = {
    "examples": ("StageTask.example_inputs (or StageTask.datasets)",
                 lambda t: t.example_inputs is not None or t.datasets is not None),
    "score": ("StageTask.score (or StageTask.datasets with StageTask.make_step)",
              lambda t: t.score is not None or t.supervised),
    "training": ("StageTask.train_model (or StageTask.datasets with StageTask.make_step)",
                 lambda t: t.train_model is not None or t.supervised),
    "builder": ("StageTask.build_model", lambda t: t.build_model is not None),
    # Supervised tasks without one are taken as classifiers: the soft-target loss on logits.
    "distill_loss": ("StageTask.distill_loss", lambda t: t.distill_loss is not None or t.supervised),
    "graph": ("StageTask.example_inputs (the node-feature matrix of the graph)",
              lambda t: t.example_inputs is not None),
    "feature_names": ("StageTask.feature_names", lambda t: t.feature_names is not None),
    "objective": ("StageTask.objective (or StageTask.build_model, make_step and datasets)",
                  lambda t: t.objective is not None or (t.supervised and t.build_model is not None)),
}

# The compress stage: what the fp32 reference and each variant need.
COMPRESS_NEEDS: dict[str, tuple[str, ...]] = {
    "fp32": ("examples", "score"),
    "dynamic_int8": ("examples", "score"),
    "static_int8": ("examples", "score"),
    "qat_int8": ("examples", "score", "training"),
    "pruned_unstructured": ("examples", "score", "training"),
    "pruned_structured": ("examples", "score", "training"),
    "student": ("examples", "score", "builder", "training"),
    "distilled": ("examples", "score", "builder", "distill_loss"),
}


def _missing(task: StageTask, needs: Iterable[str]) -> list[str]:
    return [_NEEDS[need][0] for need in needs if not _NEEDS[need][1](task)]


def _fail(stage: str, area: str, problems: list[str]) -> None:
    if problems:
        raise StageWiringError(f"{stage} stage for area {area!r}: " + "; ".join(problems))


def _sentence(who: str, missing: list[str]) -> str:
    return f"{who} needs {' and '.join(missing)}, which the task does not provide"


def _task(stage: str, area: str, task: object) -> StageTask:
    if not isinstance(task, StageTask):
        raise StageWiringError(f"{stage} stage for area {area!r}: expected a StageTask, got {type(task).__name__}")
    return task


def check_tune(task: StageTask, area: str) -> None:
    """Tune needs an objective: the task's own, or one made of its supervised training."""
    task = _task("tune", area, task)
    missing = _missing(task, ["objective"])
    _fail("tune", area, [_sentence("tuning", missing)] if missing else [])


def check_compress(task: StageTask, area: str, variants: Iterable[str]) -> None:
    """The fp32 reference and every chosen variant must find what they need in the task."""
    task = _task("compress", area, task)
    problems = []
    missing = _missing(task, COMPRESS_NEEDS["fp32"])
    if missing:
        problems.append(_sentence("the fp32 reference", missing))
    for variant in variants:
        extra = [m for m in _missing(task, COMPRESS_NEEDS[variant]) if m not in missing]
        if extra:
            problems.append(_sentence(f"variant {variant!r}", extra))
    _fail("compress", area, problems)


def check_explain(task: StageTask, area: str) -> None:
    """Explain needs items to explain, and feature names for every kind but images."""
    task = _task("explain", area, task)
    kind = task.input_kind
    needs = ["graph"] if kind == "nodes" else ["examples"]
    if kind != "image":
        needs.append("feature_names")
    missing = _missing(task, needs)
    _fail("explain", area, [_sentence(f"input kind {kind!r}", missing)] if missing else [])
