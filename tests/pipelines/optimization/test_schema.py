"""optimization's parameters against their schema: the files a run reads pass, and a
misplaced key or a value out of range fails before any node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

AREA = "optimization"


# (path set: dotted, or a tuple of keys where a key has dots; value; dotted key the error
# names; the problem it reports)
CASES = [
    ("compare.variants.sgd.batch_size", "half", "compare.variants.sgd.batch_size", "a positive integer, or 'full'"),
    ("compare.variants.sgd.optimizer.betas", [0.9, 0.99], "compare.variants.sgd.optimizer",
     "['betas']: not arguments of dl_roadmap.pipelines.optimization.optimizers.SGD"),
    ("lr_sweep.variants", ["sgd", "adagrad"], "lr_sweep", "['adagrad'] not in compare.variants"),
    ("smoothing.variant", "lion", "smoothing", "['lion'] not in compare.variants"),
    ("sequences.signal_steps", 60, "sequences", "signal_steps (60) must be below length (50)"),
    ("clipping.model.nonlinearity", "sigmoid", "clipping.model.nonlinearity", "Input should be 'tanh' or 'relu'"),
    ("clipping.variants.norm.gradient_clip_algorithm", "l2", "clipping.variants.norm.gradient_clip_algorithm",
     "Input should be 'norm' or 'value'"),
    ("depth.variants.sigmoid.batchnorm", True, "depth.variants.sigmoid.batchnorm", "unknown key"),
    ("weight_ema.beta", 1.0, "weight_ema.beta", "Input should be less than 1"),
    (("tune", "search_space", "fit.optimizer.lr", "low"), 0.0, "tune.search_space",
     "search_space.fit.optimizer.lr: a log scale needs low > 0"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)
