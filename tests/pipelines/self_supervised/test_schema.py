"""The three self-supervised pipelines' parameters against their schemas: a bad key or value
fails before any node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

CASES = [
    ("self_supervised", "methods.simclr.kind", "simsiam", "methods.simclr.kind", "Input should be"),
    ("self_supervised", "methods.moco.momentum", 1.0, "methods.moco.momentum", "less than 1"),
    ("self_supervised", "methods.simclr.temperature", 0, "methods.simclr.temperature", "greater than 0"),
    ("self_supervised", "pretrain.augment.crop_scale", [0.9, 0.2], "pretrain.augment", "low <= high"),
    ("self_supervised", "pretrain.augment.flip", 1.5, "pretrain.augment.flip", "less than or equal to 1"),
    ("self_supervised", "methods.simclr.head.layers", 3, "methods.simclr.head.layers", "Input should be"),
    ("self_supervised", "classifier.encoder", "vae", "classifier.encoder", "Input should be"),
    ("self_supervised", "evaluation.knn_k", 0, "evaluation.knn_k", "greater than 0"),
    ("self_supervised_label_efficiency", "sweep.encoders", ["simclr", "vae"], "sweep.encoders.1", "Input should be"),
    ("self_supervised_label_efficiency", "sweep.budgets", [{"labels_per_class": "some", "images_seen": 10}],
     "sweep.budgets.0.labels_per_class.constrained-int", "unable to parse string as an integer"),
    ("self_supervised_ablations", "images_seen", 0, "images_seen", "greater than 0"),
    ("self_supervised_ablations", "studies.temperature.values", [], "studies.temperature.values", "at least 1"),
]


@pytest.mark.parametrize(("area", "path", "value", "key", "problem"), CASES,
                         ids=[f"{area}-{case_id(path)}" for area, path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(area, path, value, key, problem):
    assert_named_before_the_run(area, path, value, key, problem)
