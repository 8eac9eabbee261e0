"""The contract between a roadmap area and the shared stages tune -> compress -> explain.

An area hands the stages one ``StageTask``; everything else comes from the catalog and
parameters. The *config* is the area's training block from its parameters file (a dict
whose meaning is the area's; supervised areas give it a ``fit`` entry, the arguments of
``core.training.fit``). Tuning samples values into it by dotted path (``fit.optimizer.lr``),
compression overlays a smaller student on it, and so on.

A supervised area (a finite dataset of ``(input, target)`` pairs and a step function) gives
the three functions every stage can derive the rest from::

    task = StageTask(
        build_model=build_tunable_classifier,  # (config, base) -> fresh nn.Module
        make_step=classifier_step,              # config -> step function for fit()
        datasets=classification_datasets,       # catalog data -> {"train", "val", "test"}
        metric="acc",                           # a scalar the step returns
        direction="maximize",
    )

Such a task is taken as an image classifier by compress and explain: example inputs come
from its splits, a variant is scored by the step's metric on the test split, distillation
uses the soft-target loss on logits and explain attributes the predicted class. Any other
kind of learning states what the stages need instead, through the optional hooks below
(``objective`` for tune; ``example_inputs``, ``score``, ``train_model``, ``distill_loss``
for compress; ``explain_output``, ``input_kind``, ``feature_names`` for explain). What each
stage needs is checked when its pipeline is built (contract.py), so a wrong wiring fails
at ``kedro registry list``, naming the area and the missing hook.

``base`` is an optional catalog input the builder needs besides the config (a pretrained
encoder, a vocabulary...); it is ``None`` when the area wires none.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, Literal

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from dl_roadmap.core.training import FitResult, StepFn, fit

Splits = dict[str, Dataset]  # "train", "val", "test"
Inputs = tuple[torch.Tensor, ...]  # the positional arguments of one model call
Report = Callable[[float, int], None]  # report(value, step): one intermediate value of a run

INPUT_KINDS = ("image", "sequence", "tabular", "nodes", "observation")
_HOOKS = ("build_model", "make_step", "datasets", "loader", "callbacks", "objective", "train_model", "example_inputs",
          "score", "distill_loss", "explain_output", "background_inputs")


@dataclass(frozen=True)
class StageTask:
    """What an area supplies to the shared stages (see the module docstring and the README)."""

    # Supervised training: (config, base) -> nn.Module; config -> step; data -> splits.
    build_model: Callable[[dict[str, Any], Any], nn.Module] | None = None
    make_step: Callable[[dict[str, Any]], StepFn] | None = None
    datasets: Callable[[Any], Splits] | None = None
    metric: str = "acc"
    direction: Literal["maximize", "minimize"] = "maximize"
    # Optional: (dataset, config, shuffle) -> DataLoader, for data the default batching
    # cannot stack (variable-length audio...); None batches with fit's batch_size.
    loader: Callable[[Dataset, dict[str, Any], bool], DataLoader] | None = None
    # Optional: config -> extra Lightning callbacks every training of this config needs
    # (e.g. unfreezing an encoder after N steps).
    callbacks: Callable[[dict[str, Any]], list] | None = None
    # tune, any learning: (config, data, base, trainer, report) -> value, or (value, model).
    # report(value, step) after every epoch/iteration feeds the pruner (and may stop the run).
    objective: Callable[..., Any] | None = None
    # compress, training without fit: (model, config, data, base, trainer) -> trained model.
    train_model: Callable[[nn.Module, dict[str, Any], Any, Any, dict[str, Any]], nn.Module] | None = None
    # compress and explain: data -> a batch of real inputs (a tensor, or a tuple for model(*inputs)).
    example_inputs: Callable[[Any], torch.Tensor | Sequence[torch.Tensor]] | None = None
    # compress: (model, data, config) -> the value of ``metric`` for a variant.
    score: Callable[[nn.Module, Any, dict[str, Any]], float] | None = None
    # compress: (student_out, teacher_out, batch, distillation settings) -> loss tensor.
    distill_loss: Callable[[Any, Any, Any, dict[str, Any]], torch.Tensor] | None = None
    # explain: model output -> (N,) float values to explain, or (N,) integer class indices.
    explain_output: Callable[[Any], torch.Tensor] | None = None
    # explain: data -> reference inputs the expected gradients integrate from.
    background_inputs: Callable[[Any], torch.Tensor] | None = None
    input_kind: Literal["image", "sequence", "tabular", "nodes", "observation"] = "image"
    # explain, non-image kinds: one name per feature (the last axis), or data -> names.
    feature_names: Sequence[str] | Callable[[Any], Sequence[str]] | None = None

    def __post_init__(self) -> None:
        if self.direction not in ("maximize", "minimize"):
            raise ValueError(f"StageTask.direction: 'maximize' or 'minimize', got {self.direction!r}")
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"StageTask.input_kind: one of {list(INPUT_KINDS)}, got {self.input_kind!r}")
        for name in _HOOKS:
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise TypeError(f"StageTask.{name}: a function, got {value!r}")
        names = self.feature_names
        if names is not None and not callable(names):
            if isinstance(names, str) or not all(isinstance(n, str) for n in names):
                raise TypeError(f"StageTask.feature_names: a list of names or a function of the data, got {names!r}")

    # --- what the task can give (contract.py turns these into build-time checks) ----------

    @property
    def supervised(self) -> bool:
        """Trains through ``fit`` on its own splits with its own step."""
        return self.datasets is not None and self.make_step is not None

    @property
    def monitor(self) -> str:
        """The validation metric training monitors: ``val_<metric>``."""
        return f"val_{self.metric}"

    @property
    def mode(self) -> Literal["min", "max"]:
        return "max" if self.direction == "maximize" else "min"

    # --- supervised training and scoring ------------------------------------------------

    def splits(self, data: Any) -> Splits:
        """The area's datasets, checked for the three splits the stages use."""
        if self.datasets is None:
            raise ValueError("StageTask.datasets is not set: this task has no train/val/test splits")
        splits = self.datasets(data)
        missing = [name for name in ("train", "val", "test") if name not in splits]
        if missing:
            raise KeyError(f"StageTask.datasets must return train, val and test; missing {missing}")
        return splits

    def train(
        self,
        config: dict[str, Any],
        splits: Splits,
        base: Any,
        trainer: dict[str, Any],
        *,
        name: str,
        model: nn.Module | None = None,
        step: StepFn | None = None,
        fit_overrides: dict[str, Any] | None = None,
        callbacks: list | None = None,
    ) -> FitResult:
        """Train ``model`` (default: a fresh one from ``config``) on the train split,
        monitoring ``val_<metric>``; ``fit_overrides`` go over ``config["fit"]``."""
        if "fit" not in config:
            raise KeyError("the area's config needs a 'fit' entry (core.training.fit parameters)")
        if self.make_step is None or (model is None and self.build_model is None):
            raise ValueError("StageTask.train needs make_step (and build_model when no model is given)")
        fit_params = {**config["fit"], "monitor": self.monitor, "mode": self.mode, **(fit_overrides or {})}
        train, val = splits["train"], splits["val"]
        if self.loader is not None:
            train, val = self.loader(train, config, True), self.loader(val, config, False)
        extra = list(self.callbacks(config)) if self.callbacks is not None else []
        return fit(
            model if model is not None else self.build_model(config, base),
            train,
            val,
            step=step or self.make_step(config),
            name=name,
            fit_params=fit_params,
            trainer_params=trainer,
            callbacks=extra + list(callbacks or []),
        )

    @torch.no_grad()
    def evaluate(self, model: nn.Module, dataset: Dataset, config: dict[str, Any], batch_size: int = 512) -> float:
        """The mean of the step's ``metric`` over ``dataset`` (model in eval mode, on CPU),
        batched by the task's ``loader`` when it has one."""
        if self.make_step is None:
            raise ValueError("StageTask.evaluate needs make_step")
        step = self.make_step(config)
        model = model.eval()
        total, count = 0.0, 0
        batches = self.loader(dataset, config, False) if self.loader is not None else DataLoader(dataset, batch_size=batch_size)
        for batch in batches:
            size = len(batch[0])
            total += float(step(model, batch)[self.metric]) * size
            count += size
        return total / count

    def test_score(self, model: nn.Module, data: Any, config: dict[str, Any]) -> float:
        """The task's ``metric`` for ``model``: its ``score`` hook, else the step's mean on
        the test split."""
        if self.score is not None:
            return float(self.score(model, data, config))
        return self.evaluate(model, self.splits(data)["test"], config)

    # --- inputs ---------------------------------------------------------------------------

    def inputs(self, data: Any, split: str = "test", limit: int | None = None) -> Inputs:
        """Real inputs as the positional arguments of one model call: the ``example_inputs``
        hook's batch (``limit`` first rows of each tensor), else the first ``limit`` inputs
        of ``split`` (default: at most 256)."""
        if self.example_inputs is not None:
            given = self.example_inputs(data)
            batch = tuple(given) if isinstance(given, (tuple, list)) else (given,)
            for position, tensor in enumerate(batch):
                if not isinstance(tensor, torch.Tensor):
                    raise TypeError(f"StageTask.example_inputs: input {position} is {type(tensor).__name__}, "
                                    "not a torch.Tensor")
            return batch if limit is None else tuple(tensor[:limit] for tensor in batch)
        return (inputs_of(self.splits(data)[split], limit=256 if limit is None else limit),)

    def features(self, data: Any) -> list[str] | None:
        """The feature names (the ``feature_names`` list, or what its function returns)."""
        names = self.feature_names
        if callable(names):
            names = names(data)
        return None if names is None else [str(name) for name in names]


def inputs_of(dataset: Dataset, limit: int | None = None) -> torch.Tensor:
    """The stacked inputs (first element of each item) of the first ``limit`` items."""
    n = len(dataset) if limit is None else min(limit, len(dataset))
    loader = DataLoader(torch.utils.data.Subset(dataset, range(n)), batch_size=max(n, 1))
    return next(iter(loader))[0]


def targets_of(dataset: Dataset, limit: int | None = None) -> torch.Tensor:
    """The stacked targets (second element of each item) of the first ``limit`` items."""
    n = len(dataset) if limit is None else min(limit, len(dataset))
    loader = DataLoader(torch.utils.data.Subset(dataset, range(n)), batch_size=max(n, 1))
    return next(iter(loader))[1]


def bind(function: Callable[..., Any], *args: Any) -> Callable[..., Any]:
    """``function`` with its first arguments fixed, as a node function: it keeps the name
    and docstring (kedro-viz shows ``optimize``, not ``<partial>``), the signature of the
    remaining arguments (what Kedro matches the node's inputs against) and their type hints
    (what Kedro's parameter validation reads; a ``functools.partial`` has none, and Kedro
    warns about every such node)."""
    signature = inspect.signature(function)
    remaining = list(signature.parameters.values())[len(args):]

    def bound(*rest: Any, **kwargs: Any) -> Any:
        return function(*args, *rest, **kwargs)

    functools.update_wrapper(bound, function)
    # __signature__ stops inspect at the bound signature instead of following __wrapped__.
    bound.__signature__ = signature.replace(parameters=remaining)  # type: ignore[attr-defined]
    kept = {parameter.name for parameter in remaining} | {"return"}
    bound.__annotations__ = {k: v for k, v in function.__annotations__.items() if k in kept}
    return bound


__all__ = ["INPUT_KINDS", "Inputs", "Report", "Splits", "StageTask", "bind", "inputs_of", "targets_of"]
