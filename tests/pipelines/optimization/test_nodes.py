"""Unit tests of optimization's models and nodes on tiny data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.pipelines.optimization import figures, nodes
from dl_roadmap.pipelines.optimization.models import PlainDeepNet, SequenceRNN

TRAINER = {"accelerator": "cpu", "progress_bar": False}
OPT = "dl_roadmap.pipelines.optimization.optimizers."


def tiny_splits(n_train: int = 200, n_val: int = 60, n_test: int = 50) -> dict[str, np.ndarray]:
    """Learnable fake digits: each class lights its own block of rows."""
    rng = np.random.default_rng(0)
    splits = {}
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label : 2 * label + 3] = 250
        splits[f"{split}_images"], splits[f"{split}_labels"] = images, labels.astype(np.uint8)
    return splits


@pytest.fixture
def fit_params(tmp_path) -> dict:
    return {"max_epochs": 2, "batch_size": 50, "seed": 0, "checkpoint_dir": str(tmp_path),
            "optimizer": {"name": OPT + "Adam", "lr": 0.01}, "monitor": "val_acc", "mode": "max"}


# --- models ------------------------------------------------------------------------------------


def test_plain_deep_net_has_batch_norm_only_when_asked():
    with_bn, without = PlainDeepNet("relu", "he", depth=3, width=8, batch_norm=True), PlainDeepNet(depth=3, width=8)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in with_bn.modules()) == 3
    assert not any(isinstance(m, nn.BatchNorm1d) for m in without.modules())
    assert len(without.linear_layers()) == 4 and without.linear_layers()[-1] is without.head
    assert without(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    assert torch.equal(PlainDeepNet(seed=3).head.weight, PlainDeepNet(seed=3).head.weight)


def test_sequence_rnn_recurrent_singular_values_equal_the_gain():
    model = SequenceRNN(features=4, hidden=16, classes=3, recurrent_gain=1.25, seed=1)
    singular = torch.linalg.svdvals(model.rnn.weight_hh_l0.detach())
    assert torch.allclose(singular, torch.full_like(singular, 1.25), atol=1e-5)
    assert model(torch.randn(5, 7, 4)).shape == (5, 3)
    assert torch.equal(model.rnn.weight_ih_l0, SequenceRNN(4, 16, 3, 1.25, seed=1).rnn.weight_ih_l0)


# --- ingest --------------------------------------------------------------------------------------


def test_sequences_carry_their_class_only_in_the_first_steps():
    params = {"train_size": 300, "val_size": 10, "test_size": 10, "length": 20, "classes": 3, "signal_steps": 2,
              "noise": 0.1, "seed": 0}
    data = nodes.make_sequences(params)
    assert data["train_x"].shape == (300, 20, 3) and data["test_y"].shape == (10,)
    x, y = data["train_x"], data["train_y"]
    assert (x[:, :2].mean(1).argmax(1) == y).float().mean() > 0.99, "the first steps spell the class"
    assert (x[:, 2:].mean(1).argmax(1) == y).float().mean() < 0.6, "the rest is noise"
    assert torch.equal(nodes.make_sequences(params)["train_x"], x), "seeded"
    with pytest.raises(ValueError, match="optimization.sequences.signal_steps"):
        nodes.make_sequences({**params, "signal_steps": 20})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['lenght'\]"):
        nodes.make_sequences({"lenght": 5})


def test_variant_fit_full_batch_and_errors_naming_the_variant(fit_params):
    config = nodes.variant_fit(fit_params, {"batch_size": "full", "max_epochs": 7}, 123, "here")
    assert config["batch_size"] == 123 and config["max_epochs"] == 7
    with pytest.raises(ValueError, match=r"optimization.compare.variants.gd: fit parameters: unknown key\(s\) \['lr'\]"):
        nodes.variant_fit(fit_params, {"lr": 0.1}, 10, "optimization.compare.variants.gd")


# --- experiments -----------------------------------------------------------------------------


def test_compare_optimizers_trains_each_and_scores_raw_and_averaged_weights(fit_params):
    variants = {"gd": {"optimizer": {"name": OPT + "GradientDescent", "lr": 0.5}, "batch_size": "full", "max_epochs": 3},
                "adam": {"optimizer": {"name": OPT + "Adam", "lr": 0.01}}}
    histories, steps, averages, scores = nodes.compare_optimizers(
        tiny_splits(), variants, {"depth": 1, "width": 16}, fit_params, {"beta": 0.9}, 1.0, TRAINER)
    assert histories.groupby("variant")["epoch"].count().to_dict() == {"adam": 2, "gd": 3}
    adam = histories[histories["variant"] == "adam"]
    assert np.allclose(adam["wall_seconds"], adam["epoch_seconds"].cumsum())
    assert steps.groupby("variant")["step"].count().to_dict() == {"adam": 8, "gd": 3}
    assert averages.groupby("variant")["epoch"].count().to_dict() == {"adam": 2, "gd": 3}
    by = scores.set_index("variant")
    assert by.loc["gd", "batch_size"] == 200 and by.loc["gd", "optimizer"] == "GradientDescent"
    assert by.loc["adam", "test_acc"] > 0.5, "bright row blocks are easy"
    assert 0 <= by.loc["adam", "test_acc_weight_ema"] <= 1
    assert by.loc["adam", "epochs_to_target_loss"] in (1.0, 2.0) or np.isnan(by.loc["adam", "epochs_to_target_loss"])
    with pytest.raises(ValueError, match="at least one optimizer"):
        nodes.compare_optimizers(tiny_splits(), {}, {}, fit_params, {"beta": 0.9}, 1.0, TRAINER)


def test_first_at_or_below():
    losses, seconds = pd.Series([2.0, 1.0, 0.5]), pd.Series([1.0, 2.0, 3.0])
    assert nodes.first_at_or_below(losses, seconds, 1.0) == (2.0, 2.0)
    assert all(np.isnan(nodes.first_at_or_below(losses, seconds, 0.1)))


def test_sweep_scales_each_rate_and_flags_divergence(fit_params):
    variants = {"sgd": {"optimizer": {"name": OPT + "SGD", "lr": 0.05}}, "adam": {}}
    sweep = {"variants": ["sgd"], "lr_factors": [1.0, 1000.0], "train_limit": 100, "fit": {"max_epochs": 1}}
    table = nodes.sweep_learning_rates(tiny_splits(), variants, sweep, {"depth": 1, "width": 16}, fit_params, TRAINER)
    assert table["lr"].tolist() == pytest.approx([0.05, 50.0])
    assert table["diverged"].tolist() == [False, True], "SGD at lr 50 blows up"
    with pytest.raises(ValueError, match=r"optimization.lr_sweep.variants: \['rmsprop'\]"):
        nodes.sweep_learning_rates(tiny_splits(), variants, {**sweep, "variants": ["rmsprop"]}, {}, fit_params, TRAINER)
    with pytest.raises(ValueError, match="at least one of `variants` and of `lr_factors`"):
        nodes.sweep_learning_rates(tiny_splits(), variants, {**sweep, "lr_factors": []}, {}, fit_params, TRAINER)
    with pytest.raises(ValueError, match=r"optimization.lr_sweep: unknown key\(s\) \['factors'\]"):
        nodes.sweep_learning_rates(tiny_splits(), variants, {"factors": [1]}, {}, fit_params, TRAINER)


def test_gradient_flow_records_every_layer_at_every_step(fit_params):
    variants = {"sigmoid": {"activation": "sigmoid", "init": "xavier"},
                "relu_bn": {"activation": "relu", "init": "he", "batch_norm": True}}
    fit_params = {**fit_params, "optimizer": {"name": OPT + "SGD", "lr": 0.01}, "max_epochs": 1}
    norms, histories, scores = nodes.gradient_flow(tiny_splits(), variants, {"depth": 6, "width": 32}, fit_params, TRAINER)
    assert sorted(norms["layer"].unique()) == list(range(1, 8))
    assert norms.groupby("variant")["step"].nunique().to_dict() == {"relu_bn": 4, "sigmoid": 4}
    assert (norms["grad_norm"] > 0).all()
    by = scores.set_index("variant")
    assert by.loc["sigmoid", "first_to_last_grad_ratio"] < 0.05, "six sigmoid layers: the gradient vanishes"
    assert by.loc["relu_bn", "first_to_last_grad_ratio"] > 0.3
    assert by.loc["relu_bn", "batch_norm"] and set(histories["variant"]) == set(variants)


def test_clipping_records_unclipped_norms_per_step(fit_params):
    sequences = nodes.make_sequences({"train_size": 60, "val_size": 20, "test_size": 20, "length": 15})
    variants = {"none": {"gradient_clip_val": None}, "norm": {"gradient_clip_val": 0.01}}
    fit_params = {**fit_params, "batch_size": 20, "optimizer": {"name": OPT + "SGD", "lr": 0.1}}
    steps, histories, scores = nodes.train_with_clipping(
        sequences, variants, {"hidden": 8, "recurrent_gain": 1.0}, fit_params, 0.5, TRAINER)
    assert steps.groupby("variant")["step"].count().to_dict() == {"none": 6, "norm": 6}
    by = scores.set_index("variant")
    assert by.loc["norm", "clip"] == "norm 0.01" and by.loc["none", "clip"] == "none"
    # The first step starts from the same weights: same gradient, recorded before clipping.
    first = steps[steps["step"] == 0].set_index("variant")["grad_norm"]
    assert first["norm"] == pytest.approx(first["none"]) and first["norm"] > 0.01
    assert by.loc["none", "explosions"] == int((steps[steps["variant"] == "none"]["grad_norm"] > 0.5).sum())
    assert len(histories) == 4


# --- moving averages and report ----------------------------------------------------------------


def test_smoothing_picks_one_run_and_corrects_the_ema():
    steps = pd.DataFrame({"variant": ["a"] * 4 + ["b"] * 2, "step": [0, 1, 2, 3, 0, 1],
                          "loss": [2.0, 2.0, 2.0, 2.0, 9.0, 9.0]})
    smoothed = nodes.smooth_training_loss(steps, {"variant": "a", "sma_window": 2, "ema_beta": 0.5})
    assert smoothed["step"].tolist() == [1, 2, 3, 4]
    assert smoothed["ema_corrected"].tolist() == [2.0] * 4 and smoothed["sma"].tolist() == [2.0] * 4
    assert smoothed["ema"].tolist() == [1.0, 1.5, 1.75, 1.875]
    with pytest.raises(ValueError, match="optimization.smoothing.variant: no comparison run named 'c'"):
        nodes.smooth_training_loss(steps, {"variant": "c"})


def fake_reports() -> dict[str, pd.DataFrame]:
    compare = pd.DataFrame({"variant": ["sgd", "adam"], "test_acc": [0.9, 0.95], "test_acc_weight_ema": [0.91, 0.95],
                            "final_train_loss": [0.3, 0.1], "epochs_to_target_loss": [np.nan, 2.0],
                            "seconds_to_target_loss": [np.nan, 3.0], "train_seconds": [5.0, 6.0]})
    sweep = pd.DataFrame({"variant": ["sgd", "sgd", "adam"], "lr": [0.01, 0.1, 0.001], "best_val_acc": [0.8, 0.9, 0.95],
                          "diverged": [False, True, False]})
    depth = pd.DataFrame({"variant": ["sigmoid"], "test_acc": [0.2], "first_to_last_grad_ratio": [0.01]})
    clipping = pd.DataFrame({"variant": ["none"], "test_acc": [0.25], "max_grad_norm": [1e9], "explosions": [3]})
    smoothed = pd.DataFrame({"step": [1, 2], "loss": [2.0, 1.0], "ema": [0.2, 0.28], "ema_corrected": [2.0, 1.47]})
    return {"compare": compare, "sweep": sweep, "depth": depth, "clipping": clipping, "smoothed": smoothed}


def test_summary_is_one_long_table_and_finite_metrics():
    table, metrics = nodes.summarize(**fake_reports())
    assert list(table.columns) == ["experiment", "variant", "measure", "value"]
    assert metrics["compare.adam.test_acc"] == {"value": 0.95, "step": 0}
    assert metrics["lr_sweep.sgd.best_lr"]["value"] == 0.1, "the rate with the best validation accuracy"
    assert metrics["lr_sweep.sgd.diverged_runs"]["value"] == 1
    assert metrics["smoothing.loss.ema_step1"]["value"] == 0.2
    assert "compare.sgd.epochs_to_target_loss" not in metrics, "never reached: no metric"


def test_figures_show_every_variant():
    reports = fake_reports()
    histories = pd.DataFrame({"variant": ["sgd", "sgd", "adam", "adam"], "epoch": [0, 1, 0, 1],
                              "train_loss": [1.0, 0.5, 0.8, 0.3], "val_acc": [0.5, 0.7, 0.6, 0.8],
                              "wall_seconds": [1.0, 2.0, 1.5, 3.0]})
    curves = figures.optimizer_curves_figure(histories)
    assert [l.get_label() for l in curves.axes[0].get_lines()] == ["sgd", "adam"]
    sweep = reports["sweep"].assign(final_train_loss=[0.5, np.nan, 0.2])
    assert isinstance(figures.lr_sweep_figure(sweep), Figure)
    averages = histories.rename(columns={"val_acc": "raw_acc"}).assign(ema_acc=lambda f: f["raw_acc"] + 0.01)
    assert len(figures.weight_ema_figure(averages, reports["compare"]).axes) == 2
    smoothed = pd.DataFrame({"step": [1, 2, 3], "loss": [2.0, 1.0, 1.5], "sma": [2, 1.5, 1.5], "ema": [0.2, 0.3, 0.4],
                             "ema_corrected": [2, 1.5, 1.5]})
    assert figures.loss_smoothing_figure(smoothed, {"variant": "sgd"}).axes[0].get_title() == "sgd: the whole run"
    norms = pd.DataFrame({"variant": ["a"] * 4 + ["b"] * 4, "step": [0, 0, 1, 1] * 2, "layer": [1, 2] * 4,
                          "grad_norm": [0.01, 1.0, 0.02, 1.0, 1.0, 1.0, 1.0, 1.0]})
    depth = figures.depth_gradients_figure(norms)
    assert [ax.get_title() for ax in depth.axes[2:]] == ["a", "b"]
    clip_steps = pd.DataFrame({"variant": ["none", "norm"], "step": [0, 0], "grad_norm": [5.0, 5.0], "loss": [1.0, 1.0]})
    clip_hist = pd.DataFrame({"variant": ["none", "norm"], "epoch": [0, 0], "val_acc": [0.3, 0.9]})
    assert len(figures.clipping_figure(clip_steps, clip_hist).axes) == 3
