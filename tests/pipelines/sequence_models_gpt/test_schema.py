"""sequence_models_gpt's parameters against their schema: a bad key or value fails before
any node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

AREA = "sequence_models_gpt"

CASES = [
    ("model.dim", 130, "model.dim", "dim (130) must be a multiple of heads (4)"),
    ("model.positions", "rotary", "model.positions", "Input should be 'sinusoidal' or 'learned'"),
    ("data.val_fraction", 1.0, "data.val_fraction", "Input should be less than 1"),
    ("training.block", 64, "training.block", "unknown key"),
    ("loop.eval_every", 0, "loop.eval_every", "Input should be greater than 0"),
    ("sampling.temperature", -1.0, "sampling.temperature", "greater than or equal to 0"),
    ("sweep.top_k", [0], "sweep.top_k.0", "Input should be greater than 0"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)
