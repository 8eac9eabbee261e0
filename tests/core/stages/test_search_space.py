"""Search spaces from parameters: clear errors naming the key, sampling, grids."""

from __future__ import annotations

import optuna
import pytest

from dl_roadmap.core.stages.tune.search_space import SearchSpaceError, check_search_space, grid_values, suggest

SPACE = {
    "fit.optimizer.lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
    "model.hidden": {"type": "int", "low": 16, "high": 64, "step": 16},
    "model.dropout": {"type": "float", "low": 0.0, "high": 0.3, "step": 0.1},
    "fit.batch_size": {"type": "categorical", "choices": [32, 64]},
}


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"fit.optimizer.lr": {"type": "normal", "low": 0, "high": 1}}, r"search_space\.fit\.optimizer\.lr: unknown type 'normal'"),
        ({"model.hidden": {"type": "int", "low": 64, "high": 16}}, r"search_space\.model\.hidden: low \(64\) is greater than high \(16\)"),
        ({"model.hidden": {"type": "int", "low": 16}}, r"search_space\.model\.hidden: missing \['high'\]"),
        ({"model.act": {"type": "categorical"}}, r"search_space\.model\.act: missing \['choices'\]"),
        ({"model.act": {"type": "categorical", "choices": []}}, r"search_space\.model\.act: choices must be a non-empty list"),
        ({"fit.optimizer.lr": {"type": "float", "low": 0.0, "high": 1.0, "log": True}}, r"search_space\.fit\.optimizer\.lr: a log scale needs low > 0"),
        ({"fit.optimizer.lr": {"type": "float", "low": 0.1, "high": 1.0, "scale": "log"}}, r"search_space\.fit\.optimizer\.lr: unknown field\(s\) \['scale'\]"),
        ({"model.hidden": 32}, r"search_space\.model\.hidden: expected a mapping"),
        ({"model.hidden": {"low": 1, "high": 2}}, r"search_space\.model\.hidden: unknown type None"),
        ({"fit.optimizer.lr": {"type": "float", "low": "small", "high": 1.0}}, r"search_space\.fit\.optimizer\.lr: low and high must be numbers"),
        ({}, r"search_space: empty"),
    ],
)
def test_bad_search_space_names_the_key(space, message):
    with pytest.raises(SearchSpaceError, match=message):
        check_search_space(space)


def test_suggest_returns_values_of_the_declared_kinds():
    space = check_search_space(SPACE)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        values = suggest(trial, space)
        assert 1e-4 <= values["fit.optimizer.lr"] <= 1e-2
        assert values["model.hidden"] in (16, 32, 48, 64)
        assert min(abs(values["model.dropout"] - v) for v in (0.0, 0.1, 0.2, 0.3)) < 1e-9
        assert values["fit.batch_size"] in (32, 64)
        study.tell(trial, 0.0)


def test_grid_values_enumerate_finite_entries_and_refuse_continuous_ones():
    space = check_search_space({key: spec for key, spec in SPACE.items() if key != "fit.optimizer.lr"})
    grid = grid_values(space)
    assert grid == {"model.hidden": [16, 32, 48, 64], "model.dropout": [0.0, 0.1, 0.2, 0.3], "fit.batch_size": [32, 64]}
    with pytest.raises(SearchSpaceError, match=r"search_space\.fit\.optimizer\.lr: the grid sampler needs"):
        grid_values(check_search_space({"fit.optimizer.lr": SPACE["fit.optimizer.lr"]}))
    explicit = check_search_space({"fit.optimizer.lr": {**SPACE["fit.optimizer.lr"], "grid": [1e-3, 1e-2]}})
    assert grid_values(explicit) == {"fit.optimizer.lr": [1e-3, 1e-2]}
