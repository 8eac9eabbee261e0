"""hyperparameter_search's parameters against their schema: the files a run reads pass, and a
misplaced key or a value out of range fails before any node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

AREA = "hyperparameter_search"


# (path set: dotted, or a tuple of keys where a key has dots; value; dotted key the error
# names; the problem it reports)
CASES = [
    ("grid.tune.search_space", {"model.width": {"type": "int", "low": 32, "high": 64}}, "grid.tune.search_space",
     "unknown key; known keys here: ['study']"),
    (("search_space", "model.depth"), {"type": "int", "low": 1, "high": 3}, "search_space",
     "search_space.model.depth: the scikit-learn searches can set only"),
    (("search_space", "model.width", "low"), 0, "trial", "search_space.model.width: Input should be greater than 0"),
    ("trial.overrides", {"fit.max_epoch": 1}, "trial", "trial.overrides.fit.max_epoch: unknown key"),
    ("repeats.samplers.tpe.seed", 3, "repeats.samplers.tpe.seed", "set the seeds in repeats.seeds"),
    ("repeats.samplers.gp.n_startup", 5, "repeats.samplers.gp", "['n_startup']: not arguments of optuna's GPSampler"),
    ("sklearn_random.n_iter", 0, "sklearn_random.n_iter", "Input should be greater than 0"),
    ("tpe.tune.study.n_trials", 0, "tpe.tune.study.n_trials", "Input should be greater than 0"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)
