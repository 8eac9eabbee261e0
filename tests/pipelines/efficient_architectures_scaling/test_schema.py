"""efficient_architectures_scaling's parameters against their schema: a bad key or value fails
before any node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

AREA = "efficient_architectures_scaling"

CASES = [
    ("base.model.arch", "mobilenet_v2", "base.model.arch", "Input should be 'efficientnet'"),
    ("base.model.resolution", 0, "base.model.resolution", "Input should be greater than 0"),
    ("scaling.phi", -1.0, "scaling.phi", "Input should be greater than 0"),
    ("scaling.alpha", 0.9, "scaling.alpha", "Input should be greater than or equal to 1"),
    ("scaling.search.largest", {"depth": 2.0}, "scaling.search", "a multiplier for ['resolution', 'width']"),
    ("train_threads", 0, "train_threads", "Input should be greater than 0"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)
