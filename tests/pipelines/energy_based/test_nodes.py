"""Nodes of energy_based on tiny data: the formula check, likelihood table, DBN, schema."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.pipelines.energy_based import nodes
from dl_roadmap.pipelines.energy_based.dbn import DBNClassifier
from dl_roadmap.pipelines.energy_based.rbm import RBM
from tests.parameters import assert_named_before_the_run


@pytest.fixture(scope="module")
def splits() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    make = lambda n: (rng.random((n, 28, 28)) * 255).astype(np.uint8)  # noqa: E731
    labels = lambda n: np.arange(n) % 10  # noqa: E731
    return {"train_images": make(200), "train_labels": labels(200), "val_images": make(50), "val_labels": labels(50),
            "test_images": make(50), "test_labels": labels(50)}


def test_check_against_sklearn_finds_the_same_formulas(splits) -> None:
    table = nodes.check_against_sklearn(splits, {"rows": 100, "hidden": 8, "lr": 0.05, "batch_size": 20, "seed": 0,
                                                 "threads": 1})
    assert table["max_free_energy_diff"].iloc[0] < 1e-9
    assert table["max_pseudo_ll_diff"].iloc[0] < 1e-8


def test_likelihood_table_has_the_anchors(splits) -> None:
    params = {"hidden": 8, "lr": 0.05, "batch_size": 20, "epochs": 1, "seed": 0, "monitor_rows": 20, "threads": 1,
              "methods": {"cd1": {"method": "cd", "k": 1}, "cd25": {"method": "cd", "k": 25}, "pcd": {"method": "pcd"}}}
    models, history = nodes.train_rbms(splits, params)
    assert set(history["method"]) == {"cd1", "cd25", "pcd"}
    table = nodes.estimate_likelihoods(models, splits, {"betas": [5, 5, 5], "runs": 4, "seed": 0}, params)
    anchors = table.set_index("method")["published_test_ll_500h"]
    assert anchors["cd1"] == -125.53 and anchors["cd25"] == -86.34 and np.isnan(anchors["pcd"])
    assert (table["test_ll"] < 0).all()


def test_dbn_classifier_takes_its_weights_from_the_rbms() -> None:
    rbms = [RBM(784, 6, seed=1), RBM(6, 4, seed=2)]
    model = DBNClassifier([6, 4]).load_rbms(rbms)
    assert torch.equal(model.hidden[0].weight, rbms[0].W.T) and torch.equal(model.hidden[1].bias, rbms[1].c)
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="2 layers but 1 RBMs"):
        model.load_rbms(rbms[:1])


@pytest.mark.parametrize(("path", "value", "key", "problem"), [
    ("rbm.methods.cd1.method", "cd2", "rbm.methods.cd1.method", "Input should be 'cd', 'pcd' or 'sklearn_pcd'"),
    ("exact_check.hidden", 30, "exact_check.hidden", "less than or equal to 24"),
    ("chains.snapshots", [10, 5], "chains", "snapshots must increase"),
])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem) -> None:
    assert_named_before_the_run("energy_based", path, value, key, problem)


def test_a_block_naming_an_untrained_rbm_is_refused() -> None:
    from dl_roadmap.core.schema import ParameterError, check_parameters
    from tests.parameters import parameters

    params = parameters()
    params["energy_based"]["generator"]["model"] = "cd99"
    with pytest.raises(ParameterError, match="generator.model: 'cd99' is not one of rbm.methods"):
        check_parameters(params, ["energy_based"])
