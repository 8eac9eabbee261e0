"""continual_learning_permuted nodes: permutations, anchors, the schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from dl_roadmap.core.schema import schema_problems
from dl_roadmap.pipelines.continual_learning_permuted import nodes
from dl_roadmap.pipelines.continual_learning_permuted.schema import PARAMETERS

ROOT = Path(__file__).parents[3]


def fake_splits(n: int = 50) -> dict:
    rng = np.random.default_rng(0)
    return {f"{s}_{k}": (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) if k == "images" else np.arange(n) % 10)
            for s in ("train", "val", "test") for k in ("images", "labels")}


def test_permutations_are_seeded_orders_with_task_one_unpermuted() -> None:
    first = nodes.permutations(fake_splits(), {"protocol": "permuted", "tasks": 4, "seed": 3})
    again = nodes.permutations(fake_splits(), {"protocol": "permuted", "tasks": 4, "seed": 3})
    other = nodes.permutations(fake_splits(), {"protocol": "permuted", "tasks": 4, "seed": 4})
    assert first == again and first["order"][1] != other["order"][1]
    assert first["order"][0] == list(range(784)) and all(sorted(o) == list(range(784)) for o in first["order"])


def test_train_and_summarise_on_a_tiny_sequence(tmp_path) -> None:
    study = {"sequence": {"protocol": "permuted", "tasks": 2, "seed": 0}, "seeds": [0, 1], "methods": ["naive", "si"],
             "training": {"hidden": [8], "steps_per_task": 2, "steps_per_iteration": 1, "batch_size": 8,
                          "lr": 1e-3, "eval_limit": 20, "curve_limit": 20},
             "settings": {"si": {"c": 1.0, "xi": 0.1}}}
    trainer = {"accelerator": "cpu", "progress_bar": False, "data_root": str(tmp_path)}
    runs = nodes.train_class_il(fake_splits(), study, trainer)
    assert len(runs["si"]["R"]) == 2 and runs["si"]["R"][0].shape == (2, 2)
    results, cells, curves, _ = nodes.summarise(runs, runs, runs)
    assert (results["seeds"] == 2).all() and set(curves["seed"]) == {0, 1}
    assert results.set_index(["scenario", "method"]).loc[("class", "naive"), "published_acc"] == 17.26


def test_bad_parameters_fail_naming_the_key() -> None:
    with open(ROOT / "conf/base/parameters_continual_learning_permuted.yml") as f:
        block = yaml.safe_load(f)["continual_learning_permuted"]
    assert not schema_problems(PARAMETERS, block, "continual_learning_permuted")
    block["study"]["settings"]["replay"]["capacity"] = 0
    block["model"]["scenario"] = "online"
    problems = "\n".join(schema_problems(PARAMETERS, block, "continual_learning_permuted"))
    assert "study.settings.replay.capacity" in problems and "model.scenario" in problems
