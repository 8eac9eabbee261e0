"""parakeet_base's parameters against their schema: the files a run reads pass, and a
misplaced key or a value out of range fails before any node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

AREA = "parakeet_base"


# (path set: dotted, or a tuple of keys where a key has dots; value; dotted key the error
# names; the problem it reports)
CASES = [
    ("fit.n_layers", 3, "fit.n_layers", "unknown key; known keys here: ['batch_size'"),
    ("corpus.domains.domain_c", {"utterances": 10}, "corpus.domains.domain_c",
     "unknown key; known keys here: ['domain_a', 'domain_b']"),
    ("model.d_model", 0, "model.d_model", "Input should be greater than 0"),
    ("model.n_heads", 5, "model", "d_model (64) must be a multiple of n_heads (5)"),
    ("corpus.domains.domain_a.pitch", 120, "corpus.domains.domain_a.pitch", "less than or equal to 99"),
    ("tokenizer.kind", "word", "tokenizer.kind", "Input should be 'bpe', 'unigram' or 'char'"),
    ("fit.scheduler.pct_start", 0.2, "fit.scheduler", "['pct_start'] not read by the 'cosine' schedule"),
    ("validation_utterances", 0, "validation_utterances", "Input should be greater than 0"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)
