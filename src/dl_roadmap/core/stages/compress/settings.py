"""The compress stage's parameter blocks: defaults, checks, and fit budgets.

Each block is merged over its defaults here; an unknown key or a bad value is an error
that names it (``compress.structured_pruning.ratio: ...``). The blocks are listed with
their meaning in ``nodes.py``.
"""

from __future__ import annotations

from typing import Any

from dl_roadmap.core.params import deep_merge, over_defaults
from dl_roadmap.core.training import FIT_DEFAULTS

EXAMPLE = "example"  # a latency batch size: the task's example inputs as given

DEFAULTS: dict[str, dict[str, Any]] = {
    "finetune": {},  # fit overrides (see check_fit)
    "calibration": {"size": 1024, "batch_size": 128, "weights": "per_channel"},
    "qat": {"fit": {}},
    "unstructured_pruning": {"amount": 0.5, "fit": {}},
    "structured_pruning": {"ratio": 0.5, "fit": {}},
    "distillation": {"student": {}, "temperature": 4.0, "alpha": 0.5, "fit": {}},
    "latency": {"batch_sizes": [1, 256], "repeats": 30, "warmup": 5, "threads": 1},
}


def settings(block: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """The ``block`` parameters over their defaults, checked."""
    params = dict(params or {})
    if block == "finetune":
        return check_fit("finetune", params)
    merged = over_defaults(params, DEFAULTS[block], f"compress.{block}")
    if "fit" in merged:
        merged["fit"] = check_fit(f"{block}.fit", merged["fit"])
    _CHECKS[block](block, merged)
    return merged


def check_fit(where: str, overrides: Any) -> dict[str, Any]:
    """Fit overrides (``core.training.fit`` keys, nested mappings merged key by key)."""
    if overrides is None:
        return {}
    if not isinstance(overrides, dict):
        raise ValueError(f"compress.{where}: a mapping of fit parameters, got {overrides!r}")
    unknown = sorted(set(overrides) - set(FIT_DEFAULTS))
    if unknown:
        raise ValueError(f"compress.{where}: unknown fit key(s) {unknown}; known keys are {sorted(FIT_DEFAULTS)}")
    return dict(overrides)


def fit_budget(config: dict[str, Any], *overrides: dict[str, Any]) -> dict[str, Any]:
    """The area's ``config["fit"]`` with each overrides mapping deep-merged over it in turn,
    so ``{optimizer: {lr: 1e-4}}`` changes the rate and keeps the optimizer's other keys."""
    if "fit" not in config:
        raise KeyError("the area's config needs a 'fit' entry (core.training.fit parameters)")
    merged = deep_merge(config["fit"], {})
    for layer in overrides:
        merged = deep_merge(merged, layer)
    return merged


# --- value checks, one per block ------------------------------------------------------------


def _fraction(where: str, value: Any, *, closed: bool = False) -> None:
    """A number in (0, 1), or in [0, 1] when ``closed``."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (
        0 <= value <= 1 if closed else 0 < value < 1
    )
    if not ok:
        interval = "[0, 1]" if closed else "(0, 1)"
        raise ValueError(f"compress.{where}: must be a number in {interval}, got {value!r}")


def _positive_int(where: str, value: Any, minimum: int = 1) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"compress.{where}: must be an integer >= {minimum}, got {value!r}")


def _check_calibration(block: str, p: dict[str, Any]) -> None:
    _positive_int(f"{block}.size", p["size"])
    _positive_int(f"{block}.batch_size", p["batch_size"])
    if p["weights"] not in ("per_channel", "per_tensor"):
        raise ValueError(f"compress.{block}.weights: 'per_channel' or 'per_tensor', got {p['weights']!r}")


def _check_qat(block: str, p: dict[str, Any]) -> None:
    pass  # only fit overrides, checked by check_fit


def _check_unstructured(block: str, p: dict[str, Any]) -> None:
    _fraction(f"{block}.amount", p["amount"])


def _check_structured(block: str, p: dict[str, Any]) -> None:
    _fraction(f"{block}.ratio", p["ratio"])


def _check_distillation(block: str, p: dict[str, Any]) -> None:
    if not isinstance(p["student"], dict):
        raise ValueError(f"compress.{block}.student: a mapping of dotted config paths to values, got {p['student']!r}")
    temperature = p["temperature"]
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or temperature <= 0:
        raise ValueError(f"compress.{block}.temperature: must be a positive number, got {temperature!r}")
    _fraction(f"{block}.alpha", p["alpha"], closed=True)


def _check_latency(block: str, p: dict[str, Any]) -> None:
    sizes = p["batch_sizes"]
    if not isinstance(sizes, (list, tuple)) or not sizes:
        raise ValueError(f"compress.{block}.batch_sizes: a non-empty list of batch sizes, got {sizes!r}")
    for size in sizes:
        # "example": the task's example inputs as they are (one graph, one episode's states...)
        if size != EXAMPLE and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            raise ValueError(f"compress.{block}.batch_sizes: must be an integer >= 1 or {EXAMPLE!r}, got {size!r}")
    _positive_int(f"{block}.repeats", p["repeats"])
    _positive_int(f"{block}.warmup", p["warmup"], minimum=0)
    _positive_int(f"{block}.threads", p["threads"])


_CHECKS = {
    "calibration": _check_calibration,
    "qat": _check_qat,
    "unstructured_pruning": _check_unstructured,
    "structured_pruning": _check_structured,
    "distillation": _check_distillation,
    "latency": _check_latency,
}
