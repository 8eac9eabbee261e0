"""{{ cookiecutter.pipeline_name }}: the model and the nodes on a few random images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.pipelines.{{ cookiecutter.pipeline_name }} import nodes
from dl_roadmap.pipelines.{{ cookiecutter.pipeline_name }}.models import TwoLayerPerceptron, model_from_config

CONFIG = {"model": {"hidden": 16, "dropout": 0.0}, "fit": {"max_epochs": 4, "batch_size": 32, "seed": 0,
                                                          "optimizer": {"name": "SGD", "lr": 0.05}}}
TRAINER = {"accelerator": "cpu", "progress_bar": False}


@pytest.fixture
def splits(tmp_path) -> dict[str, np.ndarray]:
    """Two classes a model can tell apart: bright images against dark ones."""
    rng = np.random.default_rng(0)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 2, n)
        images = rng.integers(0, 100, (n, 28, 28)) + 150 * labels[:, None, None]
        return images.astype(np.uint8), labels
    data = {}
    for name, n in (("train", 256), ("val", 64), ("test", 64)):
        data[f"{name}_images"], data[f"{name}_labels"] = split(n)
    CONFIG["fit"]["checkpoint_dir"] = str(tmp_path)
    return data


def test_the_model_maps_images_to_class_scores() -> None:
    model = TwoLayerPerceptron(hidden=8, classes=3)
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 3)


def test_the_builder_is_seeded() -> None:
    first, second = model_from_config(CONFIG), model_from_config(CONFIG)
    assert torch.equal(first.hidden.weight, second.hidden.weight)


def test_training_learns_a_separable_task(splits) -> None:
    model, history = nodes.train_model(splits, CONFIG, TRAINER)
    assert len(history) == 4
    table, metrics, predicted = nodes.evaluate_model(model, splits)
    assert metrics["test_acc"]["value"] > 0.9
    assert set(table["split"]) == {"val", "test"}
    assert predicted.shape == (64,)
