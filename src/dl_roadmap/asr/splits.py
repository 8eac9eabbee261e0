"""Train/validation/test splits of transcript rows: deterministic, and honouring the splits
given with the data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

SPLITS = ("train", "validation", "test")
SPLIT_ALIASES = {"train": "train", "training": "train", "validation": "validation", "valid": "validation",
                 "val": "validation", "dev": "validation", "test": "test", "eval": "test"}
DEFAULT_SPLIT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def canonical_split(value: Any) -> str | None:
    """The split a value names (``"dev"`` -> ``"validation"``), or None for none or an unknown one."""
    if value is None or value == "":
        return None
    return SPLIT_ALIASES.get(str(value).strip().lower())


def split_rows(rows: Sequence[dict[str, Any]], fractions: Mapping[str, float] | None = None,
               seed: int = 0) -> dict[str, list[dict[str, Any]]]:
    """A deterministic train/validation/test split that honours splits given with the data.

    Rows marked ``validation`` or ``test`` stay there. The others (unmarked or ``train``)
    form a pool; each of validation and test that got no marked rows is drawn from the pool
    by its fraction of the pool (at least one row when the pool has three or more), and the
    rest is train. The draw is a seeded permutation of the pool sorted by audio path, so it
    does not depend on the input order.

    Args:
        rows: clean rows (``split`` optional).
        fractions: ``validation`` and ``test`` fractions (``train``, if given, must make the
            sum 1); default 0.8/0.1/0.1.
        seed: random seed.

    Returns:
        ``{"train": [...], "validation": [...], "test": [...]}``, rows in input order, each
        with its ``split`` set.
    """
    fractions = dict(DEFAULT_SPLIT_FRACTIONS if fractions is None else fractions)
    unknown = set(fractions) - set(SPLITS)
    if unknown or any(not 0 <= f <= 1 for f in fractions.values()):
        raise ValueError(f"split fractions must be in [0, 1] for {SPLITS}, got {fractions}")
    held = fractions.get("validation", 0.0) + fractions.get("test", 0.0)
    if held >= 1 or ("train" in fractions and abs(held + fractions["train"] - 1) > 1e-6):
        raise ValueError(f"split fractions must sum to 1 with train > 0, got {fractions}")
    assigned: dict[int, str] = {}
    pool = []
    for index, row in enumerate(rows):
        split = canonical_split(row.get("split"))
        if split is None and row.get("split") not in (None, ""):
            raise ValueError(f"unknown split {row['split']!r} in {row.get('source')}:{row.get('line')}")
        if split in ("validation", "test"):
            assigned[index] = split
        else:
            pool.append(index)
    pool.sort(key=lambda i: (rows[i]["audio_filepath"], rows[i].get("text", ""), str(rows[i].get("source")),
                             rows[i].get("line", 0)))
    order = [pool[i] for i in np.random.default_rng(seed).permutation(len(pool))]
    start = 0
    for split in ("validation", "test"):
        if split in assigned.values() or fractions.get(split, 0.0) == 0:
            continue
        count = round(len(pool) * fractions[split])
        if count == 0 and len(pool) >= 3:
            count = 1  # a split asked for should not come out empty because the data is small
        for index in order[start:start + count]:
            assigned[index] = split
        start += count
    for index in order[start:]:
        assigned[index] = "train"
    result: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLITS}
    for index, row in enumerate(rows):
        result[assigned[index]].append({**row, "split": assigned[index]})
    return result
