"""Nodes of few_shot_zero_shot: the attribute table's checks, ingest, and the schema."""

from __future__ import annotations

import numpy as np
import pytest

from dl_roadmap.core.schema import check_parameters
from dl_roadmap.pipelines.few_shot_zero_shot import nodes
from tests.parameters import assert_named_before_the_run, parameters

TABLE = parameters("base")["few_shot_zero_shot"]["attributes"]
NAMES = list(TABLE["classes"])


def test_attribute_matrix_follows_label_order_and_the_table() -> None:
    matrix = nodes.attribute_matrix(TABLE, NAMES)
    assert matrix.shape == (10, len(TABLE["names"]))
    assert matrix[NAMES.index("Sneaker"), TABLE["names"].index("laces")] == 1
    assert matrix[NAMES.index("Sneaker")].sum() == 2


def test_a_bad_table_fails_naming_the_class() -> None:
    bad = {"names": TABLE["names"], "classes": {**TABLE["classes"], "Bag": ["bag", "wheels"]}}
    with pytest.raises(ValueError, match="classes.Bag: unknown attributes \\['wheels'\\]"):
        nodes.attribute_matrix(bad, NAMES)
    same = {"names": TABLE["names"], "classes": {**TABLE["classes"], "Dress": ["upper_body", "short_sleeves"]}}
    with pytest.raises(ValueError, match="'T-shirt/top' and 'Dress' have the same description"):
        nodes.attribute_matrix(same, NAMES)
    with pytest.raises(ValueError, match="missing \\['Bag'\\]"):
        nodes.attribute_matrix({"names": TABLE["names"], "classes": {k: v for k, v in TABLE["classes"].items()
                                                                       if k != "Bag"}}, NAMES)


def test_ingest_keeps_unseen_classes_out_of_training_and_validation() -> None:
    rng = np.random.default_rng(0)
    raw = {"train_images": rng.integers(0, 255, (400, 28, 28), dtype=np.uint8), "train_labels": np.arange(400) % 10,
           "test_images": rng.integers(0, 255, (100, 28, 28), dtype=np.uint8), "test_labels": np.arange(100) % 10,
           "source": "fake", "class_names": NAMES}
    params = {"data": {"val_size": 100, "seed": 0, "train_limit": None, "test_limit": None}, "unseen": [2, 3, 7]}
    data, summary = nodes.ingest(raw, params, TABLE)
    for split in ("train", "val"):
        assert not np.isin(data[f"{split}_labels"], [2, 3, 7]).any()
    assert set(data["test_labels"]) == set(range(10)) and summary["unseen"] == ["Pullover", "Dress", "Sneaker"]


def test_parameters_pass_and_bad_ones_fail_naming_the_key() -> None:
    check_parameters(parameters("base"), ["few_shot_zero_shot"])
    check_parameters(parameters("test"), ["few_shot_zero_shot"])
    assert_named_before_the_run("few_shot_zero_shot", "unseen", [2, 2], "unseen", "distinct")
    assert_named_before_the_run("few_shot_zero_shot", "train.model.temperature", 0, "train.model.temperature",
                                "greater than 0")
