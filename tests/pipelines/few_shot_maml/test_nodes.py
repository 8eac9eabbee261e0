"""Nodes of few_shot_maml on a small slice of Omniglot, and its parameter schema."""

from __future__ import annotations

import torch

from dl_roadmap.core.schema import check_parameters
from dl_roadmap.image.fewshot_episodes import Conv4
from dl_roadmap.image.fewshot_maml import transductive_batch_norm
from dl_roadmap.pipelines.few_shot_maml import figures, nodes
from tests.parameters import assert_named_before_the_run, parameters

DATA = {"train_set": "images_background_small1", "test_set": "images_background_small2", "rotations": [0],
        "size": 28, "alphabets": ["Balinese", "Tagalog"], "max_characters": 8}
CONFIG = {"model": {"channels": 8}, "task": {"way": 3, "shot": 1, "query": 2}, "inner": {"steps": 1, "lr": 0.4},
          "meta_batch": 2, "optimizer": {"name": "Adam", "lr": 0.001}, "loop": {"max_iterations": 2, "log_every": 1}}


def test_meta_training_changes_the_body_and_evaluation_scores_the_same_episodes() -> None:
    data, _ = nodes.ingest(DATA)
    models, history = nodes.train_models(data, CONFIG, {"num_threads": 1})
    assert set(models) == {"maml", "first_order_maml"} and set(history["method"]) == set(models)
    torch.manual_seed(0)
    fresh = transductive_batch_norm(Conv4(8))
    assert not torch.allclose(fresh.features[0][0].weight, models["maml"].features[0][0].weight)
    results, curve = nodes.evaluate(models, data, {"ways": [3], "shots": [1], "query": 2, "episodes": 3,
                                                   "steps": 1, "curve_steps": 2, "curve_episodes": 2, "seed": 0}, CONFIG)
    assert len(results) == 2 and list(curve["step"].unique()) == [0, 1, 2]
    assert (curve[curve["step"] == 0]["accuracy"] - 100 / 3).abs().max() < 1e-4
    figures.accuracy_figure(results)
    figures.inner_loop_figure(curve)
    figures.training_figure(history)
    assert "maml_3way_1shot_acc" in nodes.summary_metrics(results)


def test_parameters_pass_and_bad_ones_fail_naming_the_key() -> None:
    check_parameters(parameters("base"), ["few_shot_maml"])
    check_parameters(parameters("test"), ["few_shot_maml"])
    assert_named_before_the_run("few_shot_maml", "train.inner.lr", 0, "train.inner.lr", "greater than 0")
    assert_named_before_the_run("few_shot_maml", "evaluation.steps", 0, "evaluation.steps", "greater than 0")
