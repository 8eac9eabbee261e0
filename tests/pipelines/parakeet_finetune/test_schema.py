"""parakeet_finetune's parameters against their schema: the files a run reads pass, and a
misplaced key or a value out of range fails before any node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

AREA = "parakeet_finetune"


# (path set: dotted, or a tuple of keys where a key has dots; value; dotted key the error
# names; the problem it reports)
CASES = [
    ("finetune.n_layers", 3, "finetune.n_layers", "unknown key; known keys here: ['batching'"),
    ("data.text.case", "title", "data.text.case", "Input should be 'lower', 'upper' or 'keep'"),
    ("data.split.fractions.test", 0.9, "data.split", "fractions must sum to 1 with train > 0"),
    ("data.sources", ["a.json", {"path": "b.json", "spilt": "test"}], "data.sources.1.spilt", "unknown key"),
    ("data.max_duration_s", 0.05, "data", "min_duration_s (0.1) must be below max_duration_s (0.05)"),
    ("base.tokenizer", "new", "base.tokenizer", "Input should be 'keep' or 'adapt'"),
    ("finetune.freeze_encoder_steps", -1, "finetune.freeze_encoder_steps",
     "a number of optimizer steps >= 0, or 'all'"),
    ("explain.deletion_fraction", 1.0, "explain.deletion_fraction", "less than 1"),
    (("tune", "search_space", "spec_augment.time_maks"), {"type": "int", "low": 0, "high": 4}, "tune",
     "tune.search_space.spec_augment.time_maks: unknown key"),
    ("tune.study.pruner.n_warmup", 2, "tune.study.pruner", "['n_warmup']: not arguments of optuna's MedianPruner"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)
