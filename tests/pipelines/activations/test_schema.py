"""activations's parameters against their schema: the files a run reads pass, and a
misplaced key or a value out of range fails before any node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

AREA = "activations"


# (path set: dotted, or a tuple of keys where a key has dots; value; dotted key the error
# names; the problem it reports)
CASES = [
    ("variants.relu.activation", "swish", "variants.relu.activation", "Input should be 'relu', 'leaky_relu'"),
    ("variants.gelu", {"init": "he"}, "variants.gelu.activation", "Field required"),
    ("model.dropout", 1.0, "model.dropout", "Input should be less than 1"),
    ("model.seed", 3, "model.seed", "unknown key; known keys here: ['activation'"),
    ("variants.elu.init", "orthogonal", "variants.elu.init", "Input should be 'he', 'lecun' or 'xavier'"),
    ("statistics.batch_size", 0, "statistics.batch_size", "Input should be greater than 0"),
    ("fit.scheduler.pct_start", 0.2, "fit.scheduler", "['pct_start'] not read by the 'cosine' schedule"),
    (("tune", "search_space", "model.elu_alpha", "low"), 0.0, "tune",
     "tune.search_space.model.elu_alpha: Input should be greater"),
    ("explain.examples.split", "dev", "explain.examples.split", "Input should be 'train', 'val' or 'test'"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)
