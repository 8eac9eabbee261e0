"""regularization's parameters against their schema: the files a run reads pass, and a
misplaced key or a value out of range fails before any node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

AREA = "regularization"


# (path set: dotted, or a tuple of keys where a key has dots; value; dotted key the error
# names; the problem it reports)
CASES = [
    ("variants.l1", {"penalty.l1": -1.0}, "variants",
     "variants.l1.penalty.l1: Input should be greater than or equal to 0"),
    ("variants.typo", {"model.dropuot": 0.5}, "variants", "variants.typo.model.dropuot: unknown key"),
    ("reference", "ridge", "reference", "'ridge' is not one of the variants"),
    ("cross_validation.parameter", "model.droput", "cross_validation", "cross_validation.model.droput: unknown key"),
    ("cross_validation.folds", 1, "cross_validation.folds", "Input should be greater than or equal to 2"),
    ("boosting.learner", {"fit.max_epochs": 0}, "boosting", "boosting.learner.fit.max_epochs: Input should be greater"),
    ("gradient_boosting.max_leaf", 3, "gradient_boosting", "['max_leaf']: HistGradientBoostingClassifier accepts"),
    ("base.weights", "first", "base.weights", "Input should be 'last' or 'best'"),
    ("base.model.dropconnect", 1.0, "base.model.dropconnect", "Input should be less than 1"),
    ("weight_decay_sweep", [], "weight_decay_sweep", "at least 1 item"),
    (("tune", "search_space", "model.dropout", "high"), 1.0, "tune",
     "tune.search_space.model.dropout: Input should be less than 1"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)
