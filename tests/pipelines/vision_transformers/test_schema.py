"""vision_transformers's parameters against their schema: a misplaced key or a value out of
range fails before any node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

AREA = "vision_transformers"

CASES = [
    ("vit.heads", 5, "vit", "dim (64) must be a multiple of heads (5)"),
    ("vit.patch_size", 5, "vit", "patch_size (5) must divide image_size (28)"),
    ("vit.width", 64, "vit.width", "unknown key"),
    ("hunger.runs", [], "hunger.runs", "at least 1 item"),
    ("hunger.runs", [{"size": 100, "fit": {"max_epoch": 3}}], "hunger", "runs[0].fit"),
    ("attention.residual", 1.0, "attention.residual", "less than 1"),
    ("tuning.model.dim", 0, "tuning.model.dim", "greater than 0"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)
