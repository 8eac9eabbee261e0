"""Parameter blocks: merged over their defaults (unknown keys refused by name), deep-merged
layer over layer, and changed by dotted paths.

Three ways of putting one mapping over another, each for its own job:

- ``over_defaults(params, defaults, where)``: a parameter block over its defaults, top level
  only; a key the defaults do not know is an error naming it (a typo in a YAML file).
- ``deep_merge(base, overrides)``: nested mappings merged key by key, so
  ``{optimizer: {lr: 1e-4}}`` changes the rate and keeps the optimizer's other keys.
- ``with_overrides(config, {"fit.optimizer.lr": 1e-4})``: dotted paths into a config, as
  search spaces, trial budgets and student models name what they change.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def over_defaults(params: Mapping[str, Any] | None, defaults: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``params`` over a copy of ``defaults`` (top level only).

    Raises:
        ValueError: ``<where>: unknown key(s) [...]; known keys are [...]``, so a typo in a
            YAML file is reported instead of silently falling back to a default.
    """
    params = dict(params or {})
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known keys are {sorted(defaults)}")
    return {**copy.deepcopy(dict(defaults)), **params}


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``base`` with ``overrides`` merged in: mappings on both sides merge key by
    key, anything else in ``overrides`` replaces what ``base`` has. Neither input changes."""
    result = copy.deepcopy(dict(base))
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


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


def with_overrides(config: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """A deep copy of ``config`` with ``{dotted.path: value}`` overrides applied."""
    result = copy.deepcopy(dict(config))
    for path, value in (overrides or {}).items():
        set_path(result, path, copy.deepcopy(value))
    return result
