"""mnist_label_efficiency's parameters against their schema: the files a run reads pass, and a
misplaced key or a value out of range fails before any node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

AREA = "mnist_label_efficiency"


# (path set: dotted, or a tuple of keys where a key has dots; value; dotted key the error
# names; the problem it reports)
CASES = [
    ("sweep.classifier.fit.max_epochs", 3, "sweep.classifier.fit.max_epochs", "set images_seen instead"),
    ("sweep.classifier.fit.optimizer.lr_scale", {"encoder": 0.3}, "sweep.classifier.fit.optimizer",
     "lr_scale is set by each recipe"),
    ("sweep.images_seen", [1000], "sweep.images_seen", "one number per labels_per_class entry (4), got 1"),
    ("sweep.labels_per_class", [10, "most"], "sweep.labels_per_class.1",
     "a positive number of labels per class, or 'all'"),
    ("sweep.recipes.naive.lr", 0.1, "sweep.recipes.naive.lr", "unknown key"),
    ("sweep.recipes.augmented.lr_scale.encoder", 0, "sweep.recipes.augmented.lr_scale.encoder", "greater than 0"),
    ("data.train_limit", 0, "data.train_limit", "Input should be greater than 0"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)
