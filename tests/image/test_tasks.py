"""Tests for dl_roadmap.image.tasks: the image-classification StageTask."""

from __future__ import annotations

import torch

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.image.blocks import DeepMLP, mlp_from_config
from dl_roadmap.image.classification import classification_step, classifier_step_for
from dl_roadmap.image.data import image_tensor, labelled_splits
from dl_roadmap.image.tasks import MLP_TASK, classification_task


def test_factory_wires_the_builder_step_splits_and_accuracy():
    task = classification_task(mlp_from_config)
    assert task.build_model is mlp_from_config and task.make_step is classifier_step_for
    assert task.datasets is labelled_splits and task.metric == "acc" and task.direction == "maximize"
    assert task.monitor == "val_acc"

    def plain_step(config):
        return classification_step

    assert classification_task(mlp_from_config, make_step=plain_step).make_step is plain_step


def test_mlp_task_builds_from_config_and_scores_accuracy(striped):
    config = {"model": {"activation": "relu", "depth": 1, "width": 8}, "fit": {"seed": 2}}
    model = MLP_TASK.build_model(config, None)
    assert isinstance(model, DeepMLP)
    splits = MLP_TASK.splits(striped)
    assert {name: len(data) for name, data in splits.items()} == {"train": 200, "val": 60, "test": 50}
    expected = classification_scores(model, image_tensor(striped, "test"), striped["test_labels"])["acc"]
    assert abs(MLP_TASK.evaluate(model, splits["test"], config) - expected) < 1e-6
    assert not model.training, "scored in eval mode"
    torch.testing.assert_close(model.head.weight, DeepMLP("relu", depth=1, width=8, seed=2).head.weight)
