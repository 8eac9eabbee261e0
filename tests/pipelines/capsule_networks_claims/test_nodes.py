"""capsule_networks_claims: the nodes on tiny models and a few random images."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from dl_roadmap.image.capsules import parameter_count
from dl_roadmap.pipelines.capsule_networks_claims import nodes

CAPSNET = {"model": {"conv1_channels": 4, "primary_types": 2, "decoder_hidden": [8, 16]},
           "fit": {"max_epochs": 1, "batch_size": 16, "seed": 0, "optimizer": {"name": "Adam", "lr": 1e-3}}}
CNN = {"model": {"channels": [2, 4], "dropout": 0.0},
       "fit": {"max_epochs": 1, "batch_size": 16, "seed": 0, "optimizer": {"name": "Adam", "lr": 1e-3}}}
TRAINER = {"accelerator": "cpu", "progress_bar": False}
AFFINE = {"canvas": 28, "train_shift": 2, "rotation_degrees": 20, "shear": 0.2, "scale": 0.2, "shift_pixels": 3,
          "seed": 0}


@pytest.fixture
def splits(tmp_path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    data = {}
    for name, n in (("train", 32), ("val", 16), ("test", 20)):
        data[f"{name}_images"] = rng.integers(0, 255, (n, 28, 28)).astype(np.uint8)
        data[f"{name}_labels"] = np.arange(n) % 10
    for config in (CAPSNET, CNN):
        config["fit"]["checkpoint_dir"] = str(tmp_path)
    return data


def test_models_train_compare_and_route(splits) -> None:
    capsnets, history = nodes.train_capsnets(splits, CAPSNET, [1, 3], TRAINER)
    assert set(capsnets) == {"routing_1", "routing_3"}
    assert capsnets["routing_1"].routing_iterations == 1 and capsnets["routing_3"].routing_iterations == 3
    assert set(history["model"]) == {"capsnet_routing_1", "capsnet_routing_3"}
    cnn, cnn_history = nodes.train_cnn(splits, CNN, capsnets, TRAINER)
    target = parameter_count(capsnets["routing_3"])
    assert abs(parameter_count(cnn) - target) / target < 0.02, "the CNN has the CapsNet's parameter count"
    table, metrics = nodes.compare(capsnets, cnn, splits, AFFINE)
    assert list(table["model"]) == ["capsnet_routing_1", "capsnet_routing_3", "cnn"]
    assert table[["clean_acc", "shifted_acc", "affine_acc"]].apply(lambda c: c.between(0, 1)).all().all()
    assert "cnn.affine_acc" in metrics
    routing = nodes.routing_statistics(capsnets, splits, 8).set_index("model")
    # one iteration: every coupling coefficient is 1/10, entropy ln 10
    assert routing.loc["capsnet_routing_1", "mean_max_coupling"] == pytest.approx(0.1, abs=1e-6)
    assert routing.loc["capsnet_routing_1", "mean_coupling_entropy"] == pytest.approx(np.log(10), abs=1e-5)
    assert routing.loc["capsnet_routing_3", "mean_coupling_entropy"] <= np.log(10) + 1e-6
    assert isinstance(nodes.comparison_figure(table), Figure)
    assert isinstance(nodes.curves_figure(history, cnn_history), Figure)
    assert nodes.log_model(cnn)(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
