"""The contract between a roadmap area and the shared stages tune -> compress -> explain.

An area hands the stages one ``StageTask``; everything else comes from the catalog and
parameters. The *config* is the area's training block from its parameters file: a dict
with at least a ``fit`` entry (``core.training.fit`` parameters); the rest (model sizes,
augmentation, loss options...) means whatever the area's ``build_model`` and
``make_step`` make of it. Tuning samples values into this dict by dotted path
(``fit.optimizer.lr``), compression overlays a smaller student on it, and so on::

    task = StageTask(
        build_model=build_tunable_classifier,  # (config, base) -> fresh nn.Module
        make_step=classifier_step,              # config -> step function for fit()
        datasets=classification_datasets,       # catalog data -> {"train", "val", "test"}
        metric="acc",                           # a scalar the step returns
        direction="maximize",
    )

``base`` is an optional catalog input the builder needs besides the config (a pretrained
encoder, a vocabulary...); it is ``None`` when the area wires none. Datasets yield
``(input, target)`` pairs. The explain stage and distillation further expect the model to
return class logits of shape (N, classes).
"""

from __future__ import annotations

import copy
import functools
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Literal

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from dl_roadmap.core.training import FitResult, StepFn, fit

Splits = dict[str, Dataset]  # "train", "val", "test"


@dataclass(frozen=True)
class StageTask:
    """What an area supplies to the shared stages (see the module docstring)."""

    build_model: Callable[[dict[str, Any], Any], nn.Module]
    make_step: Callable[[dict[str, Any]], StepFn]
    datasets: Callable[[Any], Splits]
    metric: str = "acc"
    direction: Literal["maximize", "minimize"] = "maximize"
    # Optional: (dataset, config, shuffle) -> DataLoader, for data the default batching
    # cannot stack (variable-length audio...); None batches with fit's batch_size.
    loader: Callable[[Dataset, dict[str, Any], bool], DataLoader] | None = None
    # Optional: config -> extra Lightning callbacks every training of this config needs
    # (e.g. unfreezing an encoder after N steps).
    callbacks: Callable[[dict[str, Any]], list] | None = None

    def __post_init__(self) -> None:
        if self.direction not in ("maximize", "minimize"):
            raise ValueError(f"StageTask.direction: 'maximize' or 'minimize', got {self.direction!r}")

    @property
    def monitor(self) -> str:
        """The validation metric training monitors: ``val_<metric>``."""
        return f"val_{self.metric}"

    @property
    def mode(self) -> Literal["min", "max"]:
        return "max" if self.direction == "maximize" else "min"

    def splits(self, data: Any) -> Splits:
        """The area's datasets, checked for the three splits the stages use."""
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
        step = self.make_step(config)
        model = model.eval()
        total, count = 0.0, 0
        batches = self.loader(dataset, config, False) if self.loader is not None else DataLoader(dataset, batch_size=batch_size)
        for batch in batches:
            size = len(batch[0])
            total += float(step(model, batch)[self.metric]) * size
            count += size
        return total / count


def set_path(config: dict[str, Any], path: str, value: Any) -> None:
    """``set_path(c, "fit.optimizer.lr", 0.01)`` sets ``c["fit"]["optimizer"]["lr"]`` in place,
    creating missing dicts on the way; a non-dict on the way is an error naming the path."""
    node = config
    keys = path.split(".")
    for depth, key in enumerate(keys[:-1]):
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            where = ".".join(keys[: depth + 1])
            raise KeyError(f"{path}: {where} is {child!r}, not a mapping, so it has no key {keys[depth + 1]!r}")
        node = child
    node[keys[-1]] = value


def with_overrides(config: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """A deep copy of ``config`` with ``{dotted.path: value}`` overrides applied."""
    result = copy.deepcopy(dict(config))
    for path, value in (overrides or {}).items():
        set_path(result, path, copy.deepcopy(value))
    return result


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
