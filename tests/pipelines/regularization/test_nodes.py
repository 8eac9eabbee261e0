"""Unit tests of regularization's configs and nodes on a tiny MNIST subset."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch.utils.data import TensorDataset

from dl_roadmap.image.data import image_tensor
from dl_roadmap.pipelines.regularization import figures, nodes
from dl_roadmap.pipelines.regularization.models import DropConnectLinear
from dl_roadmap.pipelines.regularization.training import (
    accuracy, build_mlp, checked_config, train_config, variant_config, weight_statistics,
)
from tests.pipelines.regularization.conftest import TRAINER


def labelled(splits, split):
    return TensorDataset(image_tensor(splits, split), torch.from_numpy(splits[f"{split}_labels"]).long())


# --- configs ------------------------------------------------------------------------------


def test_variant_overrides_apply_by_dotted_path(tiny_base):
    config = variant_config(tiny_base, {"model.dropconnect": 0.5, "penalty.l2": 0.01}, "v")
    assert config["model"]["dropconnect"] == 0.5 and config["penalty"] == {"l1": 0.0, "l2": 0.01}
    assert tiny_base["model"] == {"depth": 1, "width": 16}, "the base is not changed"
    assert isinstance(build_mlp(config).hidden[0][0], DropConnectLinear)


def test_bad_configs_name_the_key(tiny_base):
    with pytest.raises(ValueError, match=r"regularization.variants.x.model: unknown key\(s\) \['dropot'\]"):
        variant_config(tiny_base, {"model.dropot": 0.5}, "regularization.variants.x")
    with pytest.raises(ValueError, match=r"v.penalty: unknown key\(s\) \['l3'\]"):
        variant_config(tiny_base, {"penalty.l3": 1.0}, "v")
    with pytest.raises(ValueError, match="v.penalty.l1: a coefficient >= 0"):
        variant_config(tiny_base, {"penalty.l1": -1.0}, "v")
    with pytest.raises(ValueError, match="v.weights: 'last' or 'best'"):
        checked_config({**tiny_base, "weights": "final"}, "v")
    with pytest.raises(ValueError, match=r"v: unknown key\(s\) \['optimizer'\]"):
        checked_config({**tiny_base, "optimizer": {}}, "v")


def test_weights_last_keeps_the_last_epoch_and_best_the_best(tiny_splits, tiny_base):
    """fit restores the best monitored epoch unless told not to; `weights: last` tells it. Monitoring
    val_acc with mode `min` makes the 'best' epoch the worst one, so the two differ, and
    each model's validation accuracy must be its epoch's value in the history."""
    config = checked_config({**tiny_base, "fit": {**tiny_base["fit"], "max_epochs": 3, "mode": "min"}}, "t")
    train, val = labelled(tiny_splits, "train"), labelled(tiny_splits, "val")
    last, history = train_config(config, train, val, name="last", trainer=TRAINER)
    best, _ = train_config({**config, "weights": "best"}, train, val, name="best", trainer=TRAINER)
    assert len(history) == 3
    assert accuracy(last, *val.tensors) == pytest.approx(history["val_acc"].iloc[-1], abs=1e-6)
    assert accuracy(best, *val.tensors) == pytest.approx(history["val_acc"].min(), abs=1e-6)


def test_weight_statistics_by_hand():
    model = build_mlp({"model": {"depth": 1, "width": 2}})
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        model.head.weight[0, 0] = 3.0
        model.head.weight[1, 1] = -4.0
    stats = weight_statistics(model)
    n = 784 * 2 + 2 * 10
    assert stats == pytest.approx({"weight_l2": 5.0, "weight_l1": 7.0, "near_zero_share": (n - 2) / n})


# --- nodes --------------------------------------------------------------------------------


def test_train_variants_scores_each_variant_alike(tiny_splits, tiny_base):
    variants = {"none": {}, "dropout": {"model.dropout": 0.5}, "stop": {"weights": "best", "fit.early_stopping_patience": 1}}
    histories, scores = nodes.train_variants(tiny_splits, tiny_base, variants, TRAINER)
    assert list(scores["variant"]) == list(variants)
    assert np.allclose(scores["gap"], scores["train_acc"] - scores["test_acc"])
    assert scores[["train_acc", "test_acc"]].stack().between(0, 1).all()
    assert histories.groupby("variant")["epoch"].count().max() == 2
    table, metrics = nodes.summarize_variants(scores, reference="none")
    assert table["test_acc"].is_monotonic_decreasing
    assert table.set_index("variant").loc["none", "test_acc_vs_reference"] == 0
    assert metrics["dropout.gap"]["value"] == pytest.approx(float(scores.set_index("variant").loc["dropout", "gap"]))
    with pytest.raises(ValueError, match="regularization.reference: 'ridge'"):
        nodes.summarize_variants(scores, reference="ridge")
    for figure in (figures.gap_figure(table), figures.curves_figure(histories), figures.validation_loss_figure(histories)):
        assert isinstance(figure, Figure)
    with pytest.raises(ValueError, match="name at least one variant"):
        nodes.train_variants(tiny_splits, tiny_base, {}, TRAINER)


def test_weight_decay_sweep_has_both_methods_per_coefficient(tiny_splits, tiny_base):
    sweep = nodes.compare_l2_and_weight_decay(tiny_splits, tiny_base, [0.01, 1.0], TRAINER)
    assert sorted(zip(sweep["method"], sweep["coefficient"])) == [("adam_l2", 0.01), ("adam_l2", 1.0), ("adamw", 0.01), ("adamw", 1.0)]
    by = sweep.set_index(["method", "coefficient"])["weight_l2"]
    # At lambda = 1 the L2 gradient dominates Adam's normalised step: the weights shrink far more.
    assert by[("adam_l2", 1.0)] < by[("adamw", 1.0)]
    assert isinstance(figures.weight_decay_figure(sweep), Figure)


def test_cross_validation_reports_every_fold_and_retrains_the_chosen(tiny_splits, tiny_base):
    params = {"parameter": "model.dropout", "candidates": [0.0, 0.5], "folds": 2, "seed": 0}
    folds, summary, metrics = nodes.cross_validate(tiny_splits, tiny_base, params, TRAINER)
    assert len(folds) == 4 and set(folds["fold"]) == {1, 2}
    assert folds.groupby("candidate")["held_out_size"].sum().tolist() == [200, 200], "folds cover the training set"
    means = folds.groupby("candidate")["held_out_acc"].mean()
    assert np.allclose(summary.set_index("candidate")["mean"], means)
    chosen = summary.loc[summary["chosen"], "candidate"]
    assert len(chosen) == 1 and chosen.iloc[0] == means.idxmax()
    assert summary["retrained_test_acc"].notna().sum() == 1
    assert metrics["cv.chosen"]["value"] == means.idxmax()
    assert isinstance(figures.fold_scores_figure(folds, summary), Figure)
    with pytest.raises(ValueError, match="at least two values"):
        nodes.cross_validate(tiny_splits, tiny_base, {**params, "candidates": [0.1]}, TRAINER)
    with pytest.raises(ValueError, match=r"cross_validation: unknown key\(s\) \['k'\]"):
        nodes.cross_validate(tiny_splits, tiny_base, {**params, "k": 3}, TRAINER)


def test_bagging_and_boosting_curves(tiny_splits, tiny_base):
    bagging = nodes.bag_networks(tiny_splits, tiny_base, {"members": 2, "seed": 0}, TRAINER)
    assert list(bagging["method"]) == ["single", "bagging", "bagging"]
    one = bagging[bagging["method"] == "bagging"].iloc[0]
    assert one["test_acc"] == one["member_test_acc"], "a one-member bag is its member"
    boosting = nodes.boost_networks(tiny_splits, tiny_base, {"rounds": 2, "seed": 0, "learner": {"model.width": 8}}, TRAINER)
    assert list(boosting["size"]) == list(range(1, len(boosting) + 1)) and len(boosting) >= 1
    assert boosting["weighted_error"].between(0, 0.9).all() and (boosting["alpha"] > 0).all()
    assert boosting["test_acc"].iloc[0] == boosting["member_test_acc"].iloc[0]
    hgb = nodes.gradient_boosting_reference(tiny_splits, {"max_iter": 3, "random_state": 0})
    assert list(hgb["size"]) == [1, 2, 3] and hgb["test_acc"].between(0, 1).all()
    with pytest.raises(ValueError, match=r"gradient_boosting: unknown key\(s\) \['trees'\]"):
        nodes.gradient_boosting_reference(tiny_splits, {"trees": 3})
    curve, metrics = nodes.summarize_ensembles(bagging, boosting, hgb)
    assert set(curve["method"]) == {"single", "bagging", "samme_mlp", "hist_gradient_boosting"}
    assert metrics["ensembles.bagging.members"]["value"] == 2
    assert isinstance(figures.ensemble_figure(curve), Figure)
