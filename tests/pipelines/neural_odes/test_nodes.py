"""neural_odes: the models, the NFE counter, the memory meter, continuous depth and the nodes
on a few random images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.core.stages.compress.measure import parameter_count
from dl_roadmap.pipelines.neural_odes import nodes
from dl_roadmap.pipelines.neural_odes.depth import convergence_order, depth_study
from dl_roadmap.pipelines.neural_odes.memory import memory_study
from dl_roadmap.pipelines.neural_odes.models import ODENet, ResNet, model_from_config

FIT = {"max_epochs": 2, "batch_size": 32, "seed": 0, "optimizer": {"name": "Adam", "lr": 0.01},
       "early_stopping_patience": None}
TRAINER = {"accelerator": "cpu", "progress_bar": False}


@pytest.fixture
def splits() -> dict[str, np.ndarray]:
    """Two classes a model can tell apart: bright images against dark ones."""
    rng = np.random.default_rng(0)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 2, n)
        images = rng.integers(0, 100, (n, 28, 28)) + 150 * labels[:, None, None]
        return images.astype(np.uint8), labels
    data = {}
    for name, n in (("train", 96), ("val", 32), ("test", 32)):
        data[f"{name}_images"], data[f"{name}_labels"] = split(n)
    return data


def test_both_nets_map_images_to_class_logits() -> None:
    for model in (ODENet(8, method="rk4", steps=2), ODENet(8), ResNet(8, blocks=2)):
        assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_parameter_counts_at_the_papers_width_are_near_table_1() -> None:
    # Chen et al. Table 1: ODE-Net 0.22 M, ResNet 0.60 M parameters (64 channels)
    assert parameter_count(ODENet(64)) == pytest.approx(0.22e6, rel=0.1)
    assert parameter_count(ResNet(64, blocks=6)) == pytest.approx(0.60e6, rel=0.1)


def test_adjoint_gradient_converges_to_backprop_as_the_tolerance_tightens() -> None:
    """Two discretisations of the same gradient: they differ by the solver error, which
    falls with the tolerance (slowly: the dynamics' ReLUs are kinks an adaptive solver steps over)."""
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    differences = []
    for tol in (1e-4, 1e-6):
        grads = []
        for adjoint in (False, True):
            torch.manual_seed(0)
            model = ODENet(4, method="dopri5", tol=tol, adjoint=adjoint).double()
            model(x).pow(2).sum().backward()
            grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
        differences.append(((grads[0] - grads[1]).norm() / grads[0].norm()).item())
    assert differences[1] < differences[0] / 3 and differences[1] < 2e-2


def test_builder_is_seeded_and_refuses_an_unknown_kind() -> None:
    config = {"model": {"kind": "odenet", "channels": 8}, "fit": {"seed": 3}}
    first, second = model_from_config(config), model_from_config(config)
    assert torch.equal(first.features[0].weight, second.features[0].weight)
    with pytest.raises(ValueError, match="model.kind"):
        model_from_config({"model": {"kind": "mlp"}, "fit": {"seed": 0}})


def test_adjoint_memory_stays_flat_while_backprop_grows_linearly() -> None:
    table = memory_study({"seed": 0, "channels": 4, "batch": 2, "steps": [1, 2, 4, 8]})
    adjoint = table[table["method"] == "adjoint"]["peak_mib"].to_numpy()
    backprop = table[table["method"] == "backprop"]["peak_mib"].to_numpy()
    assert np.allclose(adjoint, adjoint[0])
    assert backprop[-1] / backprop[0] == pytest.approx(8, rel=0.1)
    assert (table["grad_max_rel_difference"].diff().dropna() <= 0).all(), "the adjoint converges to backprop"


def test_euler_and_rk4_converge_to_the_ode_solution() -> None:
    torch.manual_seed(0)
    model = ODENet(4)
    images, labels = torch.rand(6, 1, 28, 28), torch.zeros(6, dtype=torch.long)
    table = depth_study(model, images, labels, [2, 4, 8, 16])
    euler = table[table["method"] == "euler"]["relative_error"].to_numpy()
    assert (np.diff(euler) < 0).all()
    assert convergence_order(table, "euler") == pytest.approx(1, abs=0.3)
    # RK4's order 4 needs a smooth f; the ReLUs in f lower it (tests of solvers.py check 4 on a smooth ODE)
    assert convergence_order(table, "rk4") > convergence_order(table, "euler") + 0.5
    rk4 = table[table["method"] == "rk4"]["relative_error"].to_numpy()
    assert (rk4 < euler).all()


def test_train_classifiers_scores_every_model_and_counts_nfe(splits, tmp_path) -> None:
    fit = {**FIT, "checkpoint_dir": str(tmp_path)}
    models = {"ode": {"model": {"kind": "odenet", "channels": 4, "method": "dopri5", "tol": 1e-2}, "fit": fit},
              "res": {"model": {"kind": "resnet", "channels": 4, "blocks": 2}, "fit": fit}}
    results, histories, nfe, model = nodes.train_classifiers(splits, models, TRAINER)
    assert list(results["model"]) == ["ode", "res"] and set(histories) == {"ode", "res"}
    assert results["test_acc"].between(0, 1).all()
    assert len(nfe) == 2 * 3, "one row per training batch (96 images / 32, two epochs)"
    assert (nfe["nfe_forward"] >= 6).all(), "dopri5 takes at least one step of 6 evaluations"
    assert (nfe["nfe_backward"] > 0).all(), "the adjoint solves backwards"
    assert isinstance(model, ODENet)


def test_train_classifiers_needs_an_odenet(splits, tmp_path) -> None:
    models = {"res": {"model": {"kind": "resnet", "channels": 4, "blocks": 1},
                      "fit": {**FIT, "max_epochs": 1, "checkpoint_dir": str(tmp_path)}}}
    with pytest.raises(ValueError, match="odenet"):
        nodes.train_classifiers(splits, models, TRAINER)
