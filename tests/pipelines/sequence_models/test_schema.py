"""sequence_models's parameters against their schema: a bad key or value fails before any
node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

AREA = "sequence_models"

CASES = [
    ("models.gru_none.attention", "cosine", "models.gru_none.gru.attention", "Input should be 'none'"),
    ("models.transformer.heads", 3, "models.transformer.transformer.heads", "dim (64) must be a multiple of heads (3)"),
    ("models.gru_none.depth", 3, "models.gru_none.gru.depth", "unknown key"),
    ("data.forms", {"emoji": 1.0}, "data.forms", "unknown form(s) ['emoji']"),
    ("data.n_train", 0, "data.n_train", "Input should be greater than 0"),
    ("serving.model", "lstm", "serving", "serving.model 'lstm' is not among models"),
    ("length_bins", [0, 20, 10, 96], "length_bins", "length_bins must increase strictly"),
    ("fit.monitor", "", "fit.monitor", "at least 1 character"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)
