"""capsule_networks: the nodes on a tiny CapsNet and a few random images."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from dl_roadmap.image.capsule_training import capsnet_from_config
from dl_roadmap.pipelines.capsule_networks import nodes
from dl_roadmap.pipelines.capsule_networks.schema import PARAMETERS

CONFIG = {"model": {"conv1_channels": 4, "primary_types": 2, "decoder_hidden": [8, 16]}, "fit": {"seed": 0}}
AFFINE = {"canvas": 28, "train_shift": 2, "rotation_degrees": 20, "shear": 0.2, "scale": 0.2, "shift_pixels": 3,
          "seed": 0}


@pytest.fixture
def splits() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    data = {}
    for name, n in (("train", 40), ("val", 20), ("test", 30)):
        data[f"{name}_images"] = rng.integers(0, 255, (n, 28, 28)).astype(np.uint8)
        data[f"{name}_labels"] = np.arange(n) % 10
    return data


def test_the_builder_is_seeded_and_takes_the_model_block() -> None:
    first, second = capsnet_from_config(CONFIG), capsnet_from_config(CONFIG)
    assert torch.equal(first.weights, second.weights)
    assert first.children_count == 2 * 6 * 6


def test_evaluation_reports_every_test_set_and_the_parameter_counts(splits) -> None:
    model = capsnet_from_config(CONFIG)
    table, metrics, predicted = nodes.evaluate_capsnet(model, splits, AFFINE)
    values = dict(zip(table["metric"], table["value"]))
    assert {"val_acc", "test_clean_acc", "test_shifted_acc", "test_affine_acc", "test_error_percent"} <= set(values)
    assert values["test_error_percent"] == pytest.approx(100 * (1 - values["test_clean_acc"]))
    assert values["parameters"] > values["parameters_without_decoder"] > 0
    assert metrics["test_clean_acc"]["value"] == values["test_clean_acc"]
    assert predicted.shape == (30,)


def test_the_figures_draw(splits) -> None:
    model = capsnet_from_config(CONFIG)
    figure = nodes.perturbation_figure(model, splits, {"digit": 3, "range": 0.25, "steps": 5})
    assert isinstance(figure, Figure)
    image = figure.axes[0].images[0].get_array()
    assert image.shape == (16 * 28, 5 * 28), "a row per capsule dimension, a column per value"
    assert isinstance(nodes.reconstructions_figure(model, splits), Figure)
    assert isinstance(nodes.affine_examples_figure(splits, AFFINE), Figure)


def test_the_logged_model_maps_images_to_capsule_lengths() -> None:
    lengths = nodes.log_model(capsnet_from_config(CONFIG))(torch.rand(2, 1, 28, 28))
    assert lengths.shape == (2, 10) and ((lengths >= 0) & (lengths < 1)).all()


def test_bad_parameters_fail_naming_the_key() -> None:
    import yaml

    from tests.conftest import PROJECT_ROOT

    params = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_capsule_networks.yml").read_text())
    block = params["capsule_networks"]
    PARAMETERS.model_validate(block)
    block["train"]["model"]["routing_iterations"] = 0
    with pytest.raises(Exception, match="routing_iterations"):
        PARAMETERS.model_validate(block)
