"""Unit tests of activations' nodes: self-normalisation through depth, the fixed-batch
statistics, dead units on a hand-made network, and the comparison on tiny data (the MLP's
blocks and initialisation are the image library's: tests/image/test_blocks.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

from dl_roadmap.image.blocks import DeepMLP
from dl_roadmap.image.data import MNIST_PIXEL_MEAN, MNIST_PIXEL_STD
from dl_roadmap.pipelines.activations import nodes
from tests.image.fakes import striped_splits as tiny_splits


def standardised_inputs(n: int, seed: int = 12345) -> torch.Tensor:
    """Pixels whose standardisation inside the model gives N(0, 1) inputs. (The seed
    differs from the models' weight seeds: draws from one stream would correlate them.)"""
    z = torch.randn(n, 784, generator=torch.Generator().manual_seed(seed))
    return MNIST_PIXEL_MEAN + MNIST_PIXEL_STD * z


# --- model -----------------------------------------------------------------------------------


def test_selu_with_lecun_init_keeps_mean_0_std_1_through_depth():
    """The self-normalising fixed point: 30 layers deep, SELU activations stay near
    mean 0 and std 1, while a ReLU network given the same (wrong for it) LeCun init loses
    half its second moment per layer, and sigmoid/tanh with Xavier shrink too."""
    x = standardised_inputs(2000)
    selu = nodes.layer_statistics(DeepMLP("selu", depth=30, width=512, seed=0), x)
    assert selu["mean"].abs().max() < 0.1
    assert (selu["std"] - 1).abs().max() < 0.1
    relu_lecun = nodes.layer_statistics(DeepMLP("relu", init="lecun", depth=30, width=512, seed=0), x)
    assert relu_lecun["std"].iloc[-1] < 0.01, "sqrt(1/2) per layer: ~(0.71)^30"
    relu_he = nodes.layer_statistics(DeepMLP("relu", depth=30, width=512, seed=0), x)
    assert 0.3 < relu_he["std"].iloc[-1] < 3, "He's factor 2 keeps the scale"
    tanh = nodes.layer_statistics(DeepMLP("tanh", depth=30, width=512, seed=0), x)
    assert tanh["std"].iloc[-1] < 0.5 * tanh["std"].iloc[0]


# --- fixed-batch statistics --------------------------------------------------------------------


def hand_made_relu_net() -> DeepMLP:
    """Two ReLU layers of 4 units. Layer 1 ignores the input: biases (-1, -2, 1, 3), so it
    outputs (0, 0, 1, 3) and units 1 and 2 are dead. Layer 2's pre-activations are then
    (0, -6, 1, -2): unit 1 reads only dead units, unit 2 has a large negative bias, unit 4
    weighs a live unit negatively; only unit 3 is ever positive."""
    model = DeepMLP("relu", depth=2, width=4)
    first, second = model.hidden[0][0], model.hidden[1][0]
    with torch.no_grad():
        first.weight.zero_()
        first.bias.copy_(torch.tensor([-1.0, -2.0, 1.0, 3.0]))
        second.weight.copy_(torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.0],
                                          [0.0, 0.0, 1.0, -1.0]]))
        second.bias.copy_(torch.tensor([0.0, -10.0, 0.0, 0.0]))
    return model


def test_dead_fraction_and_moments_on_a_hand_made_network():
    model = hand_made_relu_net().train()
    stats = nodes.layer_statistics(model, torch.rand(32, 1, 28, 28))
    assert stats["layer"].tolist() == [1, 2]
    # Layer 1 outputs (0, 0, 1, 3) for every input.
    assert stats.loc[0, "dead_fraction"] == 0.5
    assert stats.loc[0, "mean"] == pytest.approx(1.0)
    assert stats.loc[0, "std"] == pytest.approx(torch.tensor([0.0, 0, 1, 3] * 32).std().item())
    assert stats.loc[0, "pre_mean"] == pytest.approx(0.25)
    # Layer 2 pre-activations: (0, -6, 1, -2): units 1, 2 and 4 never positive.
    assert stats.loc[1, "dead_fraction"] == 0.75
    assert stats.loc[1, "mean"] == pytest.approx(0.25)
    assert model.training, "the caller's mode is restored"
    assert all(not layer._forward_hooks for layer in model.activation_layers()), "hooks removed"


def test_leaky_units_count_as_never_positive_but_keep_an_output():
    model = DeepMLP("leaky_relu", depth=1, width=2, negative_slope=0.1)
    with torch.no_grad():
        model.hidden[0][0].weight.zero_()
        model.hidden[0][0].bias.copy_(torch.tensor([-2.0, 2.0]))
    stats = nodes.layer_statistics(model, torch.rand(8, 784))
    assert stats.loc[0, "dead_fraction"] == 0.5
    assert stats.loc[0, "mean"] == pytest.approx((-0.2 + 2.0) / 2)


# --- the comparison on tiny data ----------------------------------------------------------------


def test_train_variants_trains_each_alike_and_measures_before_and_after(tmp_path):
    torch.set_num_threads(1)
    variants = {"relu": {"activation": "relu"}, "selu": {"activation": "selu", "init": "lecun"}}
    fit = {"max_epochs": 2, "batch_size": 50, "seed": 3, "optimizer": {"name": "SGD", "lr": 0.05, "momentum": 0.9},
           "monitor": "val_acc", "mode": "max", "checkpoint_dir": str(tmp_path)}
    trainer = {"accelerator": "cpu", "progress_bar": False}
    splits = tiny_splits()
    histories, stats, scores = nodes.train_variants(
        splits, variants, {"depth": 3, "width": 32, "dropout": 0.0}, fit, {"batch_size": 40}, trainer)

    assert histories.groupby("variant")["epoch"].apply(list).to_dict() == {"relu": [0, 1], "selu": [0, 1]}
    assert {"train_loss", "val_acc", "epoch_seconds"} <= set(histories.columns)
    assert len(stats) == 2 * 2 * 3 and set(stats["phase"]) == {"init", "trained"}
    # "At init" is the very model training started from: the same seed rebuilds it.
    fixed = torch.from_numpy(splits["val_images"][:40]).float().div(255).unsqueeze(1)
    fresh = nodes.layer_statistics(DeepMLP("selu", depth=3, width=32, seed=3), fixed)
    measured = stats[(stats["variant"] == "selu") & (stats["phase"] == "init")].reset_index(drop=True)
    pd.testing.assert_frame_equal(measured[fresh.columns], fresh)
    assert not np.allclose(measured["std"], stats[(stats["variant"] == "selu") & (stats["phase"] == "trained")]["std"])
    assert scores["variant"].tolist() == ["relu", "selu"]
    assert scores.loc[1, "dropout"] == "AlphaDropout(0.0)" and scores.loc[1, "init"] == "lecun"
    assert scores["test_acc"].min() > 0.5, "blocks of bright rows are easy: far above chance (10%)"
    assert (scores["seconds_per_epoch"] > 0).all() and (scores["epochs"] == 2).all()


def test_train_variants_refuses_an_empty_comparison():
    with pytest.raises(ValueError, match="at least one variant"):
        nodes.train_variants(tiny_splits(), {}, {}, {}, {"batch_size": 10}, {})


@pytest.mark.parametrize(
    ("model", "variant", "message"),
    [
        ({"depth": 2}, {"init": "he"}, "variants.odd: each variant needs an 'activation'"),
        ({"depth": 2}, {"activation": "relu", "negativ_slope": 0.1}, r"variants.odd: unknown key\(s\) \['negativ_slope'\]"),
        ({"depht": 2}, {"activation": "relu"}, r"activations.model: unknown key\(s\) \['depht'\]"),
    ],
    ids=["no-activation", "typo-in-variant", "typo-in-model"],
)
def test_variant_config_names_the_bad_key(model, variant, message):
    with pytest.raises((KeyError, ValueError), match=message):
        nodes.variant_config(model, variant, "odd")


def fake_results() -> tuple[pd.DataFrame, pd.DataFrame]:
    scores = pd.DataFrame({
        "variant": ["relu", "selu"], "activation": ["relu", "selu"], "init": ["he", "lecun"],
        "dropout": ["Dropout(0.0)", "AlphaDropout(0.0)"], "test_acc": [0.90, 0.95], "test_loss": [0.3, 0.2],
        "best_val_acc": [0.9, 0.94], "epochs": [2, 2], "seconds_per_epoch": [1.0, 1.2], "train_seconds": [2.0, 2.4],
    })
    rows = []
    for variant, stds in (("relu", [2.0, 0.5]), ("selu", [1.0, 1.05])):
        for phase in ("init", "trained"):
            for layer, std in enumerate(stds, start=1):
                rows.append({"variant": variant, "phase": phase, "layer": layer, "mean": 0.1 * layer, "std": std,
                             "pre_mean": 0.0, "pre_std": 1.0, "dead_fraction": 0.25 * layer if phase == "trained" else 0.0})
    return scores, pd.DataFrame(rows)


def test_summary_ranks_variants_and_reports_depth_drift_and_dead_units():
    scores, stats = fake_results()
    table, metrics = nodes.summarize_variants(scores, stats)
    assert table["variant"].tolist() == ["selu", "relu"], "best test accuracy first"
    relu = table.set_index("variant").loc["relu"]
    assert relu["last_layer_std_init"] == 0.5
    assert relu["max_abs_std_minus_1_trained"] == pytest.approx(1.0)
    assert relu["max_abs_mean_trained"] == pytest.approx(0.2)
    assert relu["max_abs_std_minus_1_init"] == pytest.approx(1.0) and relu["max_abs_mean_init"] == pytest.approx(0.2)
    assert table.set_index("variant").loc["selu", "max_abs_std_minus_1_init"] == pytest.approx(0.05)
    assert relu["dead_fraction_trained"] == pytest.approx(0.375) and relu["dead_fraction_init"] == 0.0
    assert math.isnan(table.set_index("variant").loc["selu", "dead_fraction_trained"]), "not a ReLU: no dead units"
    assert metrics["selu.test_acc"] == {"value": 0.95, "step": 0}
    assert "relu.dead_fraction_trained" in metrics and "selu.dead_fraction_trained" not in metrics


def test_figures_show_every_variant():
    scores, stats = fake_results()
    profile = nodes.depth_profile_figure(stats)
    assert isinstance(profile, Figure) and len(profile.axes) == 4
    assert [line.get_label() for line in profile.axes[0].get_lines() if not line.get_label().startswith("_")] == ["relu", "selu"]
    dead = nodes.dead_units_figure(stats, scores)
    assert [t.get_text() for t in dead.axes[0].get_legend().get_texts()] == ["relu (init)", "relu (trained)"]
    history = pd.DataFrame({"epoch": [0, 1], "train_loss": [1.0, 0.5], "val_loss": [1.1, 0.6],
                            "train_acc": [0.5, 0.8], "val_acc": [0.4, 0.7]})
    curves = nodes.curves_figure(pd.concat([history.assign(variant="relu"), history.assign(variant="selu")]))
    assert [ax.get_title() for ax in curves.axes[:2]] == ["relu", "selu"]
