"""The merge helpers: over_defaults, deep_merge and the dotted-path overrides."""

from __future__ import annotations

import pytest

from dl_roadmap.core.params import deep_merge, over_defaults, set_path, with_overrides


def test_over_defaults_fills_the_top_level_and_refuses_unknown_keys():
    defaults = {"steps": 10, "optimizer": {"name": "sgd", "lr": 0.1}}
    merged = over_defaults({"steps": 3}, defaults, "block")
    assert merged == {"steps": 3, "optimizer": {"name": "sgd", "lr": 0.1}}
    merged["optimizer"]["lr"] = 1.0
    assert defaults["optimizer"]["lr"] == 0.1, "the defaults are copied, not shared"
    assert over_defaults(None, defaults, "block") == defaults
    with pytest.raises(ValueError, match=r"block: unknown key\(s\) \['step'\]; known keys are \['optimizer', 'steps'\]"):
        over_defaults({"step": 3}, defaults, "block")


def test_deep_merge_merges_mappings_key_by_key_and_replaces_the_rest():
    base = {"max_epochs": 8, "optimizer": {"name": "SGD", "lr": 0.1, "betas": [0.9, 0.99]}, "scheduler": None}
    merged = deep_merge(base, {"optimizer": {"lr": 0.01, "betas": [0.5]}, "scheduler": {"name": "cosine"}})
    assert merged == {"max_epochs": 8, "optimizer": {"name": "SGD", "lr": 0.01, "betas": [0.5]},
                      "scheduler": {"name": "cosine"}}
    merged["optimizer"]["betas"].append(1.0)
    assert base["optimizer"] == {"name": "SGD", "lr": 0.1, "betas": [0.9, 0.99]}, "inputs are never changed"
    assert deep_merge(base, None) == base and deep_merge(base, None) is not base


def test_dotted_paths_set_nested_values_and_create_missing_levels():
    config = {"fit": {"optimizer": {"lr": 0.1}}, "label_smoothing": 0.0}
    changed = with_overrides(config, {"fit.optimizer.lr": 0.01, "model.hidden": 64})
    assert changed == {"fit": {"optimizer": {"lr": 0.01}}, "label_smoothing": 0.0, "model": {"hidden": 64}}
    assert config["fit"]["optimizer"]["lr"] == 0.1 and "model" not in config
    set_path(config, "fit.max_epochs", 3)
    assert config["fit"] == {"optimizer": {"lr": 0.1}, "max_epochs": 3}


def test_a_path_through_a_value_names_where_it_stops():
    with pytest.raises(KeyError, match=r"label_smoothing\.value: label_smoothing is 0\.0, not a mapping, so it has no "
                                       r"key 'value'"):
        with_overrides({"label_smoothing": 0.0}, {"label_smoothing.value": 0.1})
