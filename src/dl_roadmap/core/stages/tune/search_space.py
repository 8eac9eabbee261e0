"""Search spaces declared in parameters, checked before any trial runs.

Each key is a dotted path into the area's config; each value says how to sample it::

    search_space:
      fit.optimizer.lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
      model.dropout:    {type: float, low: 0.0, high: 0.5, step: 0.05}
      model.hidden:     {type: int, low: 32, high: 256, step: 32}
      fit.batch_size:   {type: categorical, choices: [64, 128, 256]}

The grid sampler needs a finite set per key: categorical choices, an int range, a float
with ``step``, or an explicit ``grid: [...]`` list on any entry.
"""

from __future__ import annotations

import math
from typing import Any

_REQUIRED = {"float": ("low", "high"), "int": ("low", "high"), "categorical": ("choices",)}
_ALLOWED = {"float": {"low", "high", "log", "step", "grid"}, "int": {"low", "high", "log", "step", "grid"},
            "categorical": {"choices", "grid"}}


class SearchSpaceError(ValueError):
    """A search-space entry that cannot be sampled; the message names the key."""


def check_search_space(space: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Validate every entry and return the space with types normalised.

    Raises:
        SearchSpaceError: naming the key and what is wrong (unknown type, missing or
            unknown field, low > high, log with low <= 0, empty choices).
    """
    if not space:
        raise SearchSpaceError("search_space: empty; declare at least one parameter to tune")
    checked = {}
    for key, spec in space.items():
        where = f"search_space.{key}"
        if not isinstance(spec, dict):
            raise SearchSpaceError(f"{where}: expected a mapping with a 'type', got {spec!r}")
        kind = spec.get("type")
        if kind not in _REQUIRED:
            raise SearchSpaceError(f"{where}: unknown type {kind!r}; use one of {sorted(_REQUIRED)}")
        missing = [field for field in _REQUIRED[kind] if field not in spec]
        if missing:
            raise SearchSpaceError(f"{where}: missing {missing} for type {kind!r}")
        unknown = sorted(set(spec) - _ALLOWED[kind] - {"type"})
        if unknown:
            raise SearchSpaceError(f"{where}: unknown field(s) {unknown} for type {kind!r}")
        spec = dict(spec)
        if kind == "categorical":
            if not isinstance(spec["choices"], (list, tuple)) or not spec["choices"]:
                raise SearchSpaceError(f"{where}: choices must be a non-empty list, got {spec['choices']!r}")
            spec["choices"] = list(spec["choices"])
        else:
            number = int if kind == "int" else float
            try:
                spec["low"], spec["high"] = number(spec["low"]), number(spec["high"])
            except (TypeError, ValueError):
                raise SearchSpaceError(f"{where}: low and high must be numbers, got {spec['low']!r}, {spec['high']!r}") from None
            if spec["low"] > spec["high"]:
                raise SearchSpaceError(f"{where}: low ({spec['low']}) is greater than high ({spec['high']})")
            if spec.get("log") and spec["low"] <= 0:
                raise SearchSpaceError(f"{where}: a log scale needs low > 0, got {spec['low']}")
            if spec.get("log") and spec.get("step"):
                raise SearchSpaceError(f"{where}: log and step cannot be combined (Optuna samples one or the other)")
        if "grid" in spec and (not isinstance(spec["grid"], (list, tuple)) or not spec["grid"]):
            raise SearchSpaceError(f"{where}: grid must be a non-empty list, got {spec['grid']!r}")
        checked[key] = spec
    return checked


def suggest(trial: Any, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Ask an Optuna trial for one value per key of a checked space."""
    values = {}
    for key, spec in space.items():
        if spec["type"] == "categorical":
            values[key] = trial.suggest_categorical(key, spec["choices"])
        elif spec["type"] == "int":
            values[key] = trial.suggest_int(key, spec["low"], spec["high"], step=int(spec.get("step") or 1),
                                            log=bool(spec.get("log")))
        else:
            values[key] = trial.suggest_float(key, spec["low"], spec["high"], step=spec.get("step"),
                                              log=bool(spec.get("log")))
    return values


def grid_values(space: dict[str, dict[str, Any]]) -> dict[str, list[Any]]:
    """The finite value list per key that Optuna's GridSampler needs.

    Raises:
        SearchSpaceError: for a continuous float without ``step`` or ``grid``.
    """
    grid = {}
    for key, spec in space.items():
        if "grid" in spec:
            grid[key] = list(spec["grid"])
        elif spec["type"] == "categorical":
            grid[key] = spec["choices"]
        elif spec["type"] == "int" and not spec.get("log"):
            grid[key] = list(range(spec["low"], spec["high"] + 1, int(spec.get("step") or 1)))
        elif spec["type"] == "float" and spec.get("step"):
            count = int(math.floor((spec["high"] - spec["low"]) / spec["step"] + 1e-9)) + 1
            grid[key] = [round(spec["low"] + i * spec["step"], 12) for i in range(count)]
        else:
            raise SearchSpaceError(
                f"search_space.{key}: the grid sampler needs a finite set of values; add 'grid: [...]' or a 'step'"
            )
    return grid
