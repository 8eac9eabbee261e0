"""Parameter blocks merged over their defaults, with unknown keys refused by name."""

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
