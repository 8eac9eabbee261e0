"""Train/validation/test splits of rows (dl_roadmap.asr.splits)."""

from __future__ import annotations

import numpy as np
import pytest

from dl_roadmap.asr.splits import split_rows


def fake_rows(n: int) -> list[dict]:
    return [{"audio_filepath": f"/audio/{i:03d}.wav", "duration": 1.0, "text": f"row {i}", "source": "m", "line": i}
            for i in range(n)]


def test_split_is_deterministic_and_proportional() -> None:
    rows = fake_rows(100)
    split = split_rows(rows, {"train": 0.8, "validation": 0.1, "test": 0.1}, seed=3)
    assert {k: len(v) for k, v in split.items()} == {"train": 80, "validation": 10, "test": 10}
    names = {k: [r["line"] for r in v] for k, v in split.items()}
    assert sorted(sum(names.values(), [])) == list(range(100))
    assert all(r["split"] == k for k, v in split.items() for r in v)
    shuffled = [rows[i] for i in np.random.default_rng(1).permutation(100)]
    again = split_rows(shuffled, {"validation": 0.1, "test": 0.1}, seed=3)
    assert {k: sorted(r["line"] for r in v) for k, v in again.items()} == {k: sorted(v) for k, v in names.items()}
    other = split_rows(rows, {"validation": 0.1, "test": 0.1}, seed=4)
    assert [r["line"] for r in other["test"]] != names["test"]


def test_split_honours_given_splits() -> None:
    rows = fake_rows(20)
    for row in rows[15:]:
        row["split"] = "test"
    split = split_rows(rows, {"validation": 0.2, "test": 0.3}, seed=0)
    assert [r["line"] for r in split["test"]] == [15, 16, 17, 18, 19]  # given test rows only
    assert len(split["validation"]) == 3 and len(split["train"]) == 12  # 20% of the 15 others
    small = split_rows(fake_rows(4), None)
    assert len(small["validation"]) == 1 and len(small["test"]) == 1  # never empty when asked for
    with pytest.raises(ValueError, match="sum to 1"):
        split_rows(rows, {"train": 0.5, "validation": 0.1})
    with pytest.raises(ValueError, match="unknown split 'holdout'"):
        split_rows([{**rows[0], "split": "holdout"}])
