"""Nodes of regularization: one small MNIST training set, one MLP, every regulariser.

Ingest, the (image, label) tensors and the classification step are the image library's;
what each config trains is in training.py, the penalties in penalties.py, folds and
bootstrap samples in resampling.py, the ensemble arithmetic in ensembles.py, the figures
in figures.py.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from dl_roadmap.core.devices import inference_device
from dl_roadmap.core.inference import predict
from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.image.data import image_tensor, labelled_split
from dl_roadmap.pipelines.regularization.ensembles import average_probabilities, samme_round, samme_vote, softmax
from dl_roadmap.pipelines.regularization.resampling import bootstrap_sample, stratified_folds, weighted_resample
from dl_roadmap.pipelines.regularization.training import (
    accuracy, checked_config, train_config, variant_config, weight_statistics,
)

logger = logging.getLogger(__name__)
CLASSES = 10


def _train_and_score(config: dict[str, Any], train: TensorDataset, splits: dict[str, np.ndarray], name: str,
                     trainer: dict[str, Any]) -> tuple[Any, pd.DataFrame, dict[str, float]]:
    """Train one config; accuracy on the whole training set and the test set (eval mode),
    their gap, and the size of the weights."""
    model, history = train_config(config, train, labelled_split(splits, "val"), name=name, trainer=trainer)
    device = inference_device(trainer)
    train_images, train_labels = train.tensors
    scores = {
        "train_acc": accuracy(model, train_images, train_labels.numpy(), device),
        "test_acc": accuracy(model, image_tensor(splits, "test"), splits["test_labels"], device),
    }
    scores["gap"] = scores["train_acc"] - scores["test_acc"]
    return model, history, {**scores, **weight_statistics(model)}


# --- 1. every regulariser on the small training set -----------------------------------------


def train_variants(
    splits: dict[str, np.ndarray], base: dict[str, Any], variants: dict[str, dict[str, Any]], trainer: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train the base config once per variant: same data, seed, initial weights, budget.

    Args:
        splits: the MNIST splits (a small train set, validation, test).
        base: the config every variant starts from (training.py).
        variants: name -> ``{dotted.path: value}`` overrides of ``base`` (e.g.
            ``model.dropout: 0.5``); ``{}`` is the unregularised reference.
        trainer: the shared trainer block.
    Returns:
        Per-epoch histories (a ``variant`` column) and one row of scores per variant.
    """
    if not variants:
        raise ValueError("regularization.variants: name at least one variant")
    train = labelled_split(splits, "train")
    histories, rows = [], []
    for name, overrides in variants.items():
        config = variant_config(base, overrides, f"regularization.variants.{name}")
        _, history, scores = _train_and_score(config, train, splits, name, trainer)
        histories.append(history.assign(variant=name))
        rows.append({"variant": name, **scores, "epochs": len(history),
                     "best_val_epoch": int(history["val_acc"].idxmax()) + 1,
                     "best_val_acc": float(history["val_acc"].max())})
        logger.info("%s: train %.4f, test %.4f, gap %.4f", name, scores["train_acc"], scores["test_acc"], scores["gap"])
    return pd.concat(histories, ignore_index=True), pd.DataFrame(rows)


def summarize_variants(scores: pd.DataFrame, reference: str) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """The results table, best test accuracy first, with each variant's change of test
    accuracy and of the gap against ``reference`` (the unregularised variant)."""
    if reference not in set(scores["variant"]):
        raise ValueError(f"regularization.reference: {reference!r} is not one of the variants {list(scores['variant'])}")
    ref = scores.set_index("variant").loc[reference]
    table = scores.assign(test_acc_vs_reference=scores["test_acc"] - ref["test_acc"],
                          gap_vs_reference=scores["gap"] - ref["gap"])
    table = table.sort_values("test_acc", ascending=False, ignore_index=True)
    numeric = table.drop(columns="variant")
    return table, metrics_for_mlflow({f"{variant}.{column}": value
                            for variant, row in zip(table["variant"], numeric.to_dict("records"))
                            for column, value in row.items()})


# --- L2 in the loss vs decoupled weight decay, under Adam -------------------------------------


def compare_l2_and_weight_decay(
    splits: dict[str, np.ndarray], base: dict[str, Any], coefficients: list[float], trainer: dict[str, Any]
) -> pd.DataFrame:
    """For each coefficient lambda: Adam with lambda/2 * ||w||^2 in the loss, and AdamW
    with weight_decay = lambda (same learning rate). One row per (method, lambda)."""
    if not coefficients:
        raise ValueError("regularization.weight_decay_sweep: give at least one coefficient")
    train, lr = labelled_split(splits, "train"), base["fit"]["optimizer"]["lr"]
    methods = {
        "adam_l2": lambda c: {"penalty.l2": c, "fit.optimizer": {"name": "Adam", "lr": lr}},
        "adamw": lambda c: {"fit.optimizer": {"name": "AdamW", "lr": lr, "weight_decay": c}},
    }
    rows = []
    for coefficient in tqdm(coefficients, desc="L2 vs weight decay"):
        for method, overrides in methods.items():
            config = variant_config(base, overrides(float(coefficient)), f"regularization.weight_decay_sweep.{method}")
            _, _, scores = _train_and_score(config, train, splits, f"sweep/{method}/{coefficient:g}", trainer)
            rows.append({"method": method, "coefficient": float(coefficient), **scores})
    return pd.DataFrame(rows)


# --- 2. k-fold cross-validation for model selection -------------------------------------------


CV_DEFAULTS: dict[str, Any] = {"parameter": "model.dropout", "candidates": [], "folds": 4, "seed": 0}


def cross_validate(
    splits: dict[str, np.ndarray], base: dict[str, Any], params: dict[str, Any], trainer: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, float]]]:
    """Choose ``params.parameter`` (a dotted path into the config) among ``candidates`` by
    stratified k-fold cross-validation over the small training set only, then retrain on
    all of it with the chosen value and score that model once on the test set.

    Returns:
        Every fold's held-out accuracy, the per-candidate summary (mean, std, chosen, and
        the retrained model's test accuracy on the chosen row) and its MLflow metrics.
    """
    params = over_defaults(params, CV_DEFAULTS, "regularization.cross_validation")
    if len(params["candidates"]) < 2:
        raise ValueError("regularization.cross_validation.candidates: give at least two values to choose from")
    images, labels = labelled_split(splits, "train").tensors
    folds = stratified_folds(splits["train_labels"], params["folds"], params["seed"])
    rows = []
    jobs = [(value, k) for value in params["candidates"] for k in range(len(folds))]
    for value, k in tqdm(jobs, desc="cross-validation"):
        config = variant_config(base, {params["parameter"]: value}, "regularization.cross_validation")
        fit_idx, held_idx = (torch.from_numpy(part) for part in folds[k])
        held_out = TensorDataset(images[held_idx], labels[held_idx])
        # The held-out fold is also fit's validation set, for the curves only: the model
        # keeps its last epoch (weights: last), so the fold never chooses the weights.
        model, _ = train_config({**config, "weights": "last"}, TensorDataset(images[fit_idx], labels[fit_idx]),
                                held_out, name=f"cv/{value}/fold{k + 1}", trainer=trainer)
        rows.append({"candidate": value, "fold": k + 1, "held_out_acc": accuracy(model, *held_out.tensors),
                     "held_out_size": len(held_idx)})
    fold_scores = pd.DataFrame(rows)
    summary = (fold_scores.groupby("candidate", sort=False)["held_out_acc"]
               .agg(mean="mean", std="std").reset_index())
    chosen = summary.loc[summary["mean"].idxmax(), "candidate"]
    summary["chosen"] = summary["candidate"] == chosen
    config = variant_config(base, {params["parameter"]: chosen}, "regularization.cross_validation")
    _, _, scores = _train_and_score(config, labelled_split(splits, "train"), splits, f"cv/{chosen}/retrained", trainer)
    summary["retrained_test_acc"] = np.where(summary["chosen"], scores["test_acc"], np.nan)
    summary.insert(0, "parameter", params["parameter"])
    metrics = {f"cv.{value}.mean": m for value, m in zip(summary["candidate"], summary["mean"])}
    metrics |= {f"cv.{value}.std": s for value, s in zip(summary["candidate"], summary["std"])}
    metrics |= {"cv.chosen": float(chosen), "cv.retrained_test_acc": scores["test_acc"]}
    logger.info("cross-validation chose %s = %s: test accuracy %.4f", params["parameter"], chosen, scores["test_acc"])
    return fold_scores, summary, metrics_for_mlflow(metrics)


# --- 3. ensembles -----------------------------------------------------------------------------


def _probabilities(model: Any, images: torch.Tensor, trainer: dict[str, Any]) -> np.ndarray:
    return softmax(predict(model, images, inference_device(trainer)))


def bag_networks(
    splits: dict[str, np.ndarray], base: dict[str, Any], params: dict[str, Any], trainer: dict[str, Any]
) -> pd.DataFrame:
    """Bagging: ``params.members`` copies of the base config, each on its own bootstrap
    sample (and its own seed), class probabilities averaged; the single model is the same
    config on the whole training set.

    Returns:
        Test accuracy against ensemble size (``method`` = bagging, one row per size 1..N,
        ``member_test_acc`` = the newest member alone) plus a ``single`` row.
    """
    params = over_defaults(params, {"members": 10, "seed": 0}, "regularization.bagging")
    config = checked_config(base, "regularization.base")
    train_images, train_labels = labelled_split(splits, "train").tensors
    test_images, test_labels = image_tensor(splits, "test"), splits["test_labels"]
    single, _ = train_config(config, labelled_split(splits, "train"), labelled_split(splits, "val"), name="bagging/single", trainer=trainer)
    rows = [{"method": "single", "size": 1, "test_acc": accuracy(single, test_images, test_labels),
             "member_test_acc": np.nan}]
    rng, probabilities = np.random.default_rng(int(params["seed"])), []
    for member in tqdm(range(int(params["members"])), desc="bagging"):
        sample = torch.from_numpy(bootstrap_sample(len(train_labels), rng))
        member_config = {**config, "fit": {**config["fit"], "seed": int(config["fit"].get("seed", 0)) + member + 1}}
        model, _ = train_config(member_config, TensorDataset(train_images[sample], train_labels[sample]),
                                labelled_split(splits, "val"), name=f"bagging/member{member + 1}", trainer=trainer)
        probabilities.append(_probabilities(model, test_images, trainer))
        ensemble = average_probabilities(probabilities).argmax(1)
        rows.append({"method": "bagging", "size": member + 1, "test_acc": float((ensemble == test_labels).mean()),
                     "member_test_acc": float((probabilities[-1].argmax(1) == test_labels).mean())})
    return pd.DataFrame(rows)


BOOSTING_DEFAULTS: dict[str, Any] = {"rounds": 10, "seed": 0, "learner": {}}


def boost_networks(
    splits: dict[str, np.ndarray], base: dict[str, Any], params: dict[str, Any], trainer: dict[str, Any]
) -> pd.DataFrame:
    """SAMME with small MLPs: round m trains a weak MLP (``params.learner``: dotted
    overrides of the base config, e.g. a narrow net and few epochs) on a resample drawn
    with the current example weights, weighs it by alpha_m and re-weights the examples it
    gets wrong (ensembles.py). A learner no better than chance on the weighted set
    (err >= 1 - 1/K) gets alpha <= 0 and stops the boosting, as in SAMME.

    Returns:
        One row per round: weighted error, alpha, the learner's own test accuracy and
        the boosted vote's test accuracy so far (``method`` = samme_mlp, ``size`` = m).
    """
    params = over_defaults(params, BOOSTING_DEFAULTS, "regularization.boosting")
    config = variant_config(base, params["learner"], "regularization.boosting.learner")
    train_images, train_labels = labelled_split(splits, "train").tensors
    test_images, test_labels = image_tensor(splits, "test"), splits["test_labels"]
    rng = np.random.default_rng(int(params["seed"]))
    weights = np.full(len(train_labels), 1.0 / len(train_labels))
    train_votes, test_votes, alphas, rows = [], [], [], []
    for round_ in tqdm(range(int(params["rounds"])), desc="boosting"):
        sample = torch.from_numpy(weighted_resample(weights, rng))
        learner_config = {**config, "fit": {**config["fit"], "seed": int(config["fit"].get("seed", 0)) + round_ + 1}}
        model, _ = train_config(learner_config, TensorDataset(train_images[sample], train_labels[sample]),
                                labelled_split(splits, "val"), name=f"boosting/learner{round_ + 1}", trainer=trainer)
        train_predicted = predict(model, train_images).argmax(1)
        error, alpha, new_weights = samme_round(weights, train_predicted != train_labels.numpy(), CLASSES)
        if alpha <= 0:
            logger.warning("boosting round %d: weighted error %.3f is chance level; stopping", round_ + 1, error)
            break
        weights = new_weights
        alphas.append(alpha)
        train_votes.append(train_predicted)
        test_votes.append(predict(model, test_images).argmax(1))
        rows.append({
            "method": "samme_mlp", "size": round_ + 1, "weighted_error": error, "alpha": alpha,
            "member_test_acc": float((test_votes[-1] == test_labels).mean()),
            "train_acc": float((samme_vote(train_votes, alphas, CLASSES) == train_labels.numpy()).mean()),
            "test_acc": float((samme_vote(test_votes, alphas, CLASSES) == test_labels).mean()),
            "weight_max_share": float(weights.max()),
        })
    return pd.DataFrame(rows)


def gradient_boosting_reference(splits: dict[str, np.ndarray], params: dict[str, Any]) -> pd.DataFrame:
    """scikit-learn's HistGradientBoostingClassifier on the same 784 pixels of the same
    small training set (no validation-based early stopping: every stage is recorded).

    Args:
        params: HistGradientBoostingClassifier arguments (max_iter, learning_rate...).
    Returns:
        Test and train accuracy after each boosting iteration (``method`` =
        hist_gradient_boosting, ``size`` = iterations; each one adds a tree per class).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    known = set(HistGradientBoostingClassifier().get_params())
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"regularization.gradient_boosting: unknown key(s) {unknown}")
    def flat(split: str) -> np.ndarray:
        return splits[f"{split}_images"].reshape(len(splits[f"{split}_images"]), -1)

    model = HistGradientBoostingClassifier(**{"early_stopping": False, **params})
    model.fit(flat("train"), splits["train_labels"])
    rows = [{"method": "hist_gradient_boosting", "size": size, "test_acc": float((test == splits["test_labels"]).mean()),
             "train_acc": float((train == splits["train_labels"]).mean())}
            for size, (test, train) in enumerate(zip(model.staged_predict(flat("test")),
                                                     model.staged_predict(flat("train"))), start=1)]
    return pd.DataFrame(rows)


def summarize_ensembles(
    bagging: pd.DataFrame, boosting: pd.DataFrame, gradient_boosting: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """One table of accuracy against ensemble size for every method, and the final
    figures as metrics (single model, bagging, mean bag member, boosted MLPs, HGB)."""
    curve = pd.concat([bagging, boosting, gradient_boosting], ignore_index=True)
    bag = bagging[bagging["method"] == "bagging"]
    metrics = {
        "ensembles.single.test_acc": float(bagging.loc[bagging["method"] == "single", "test_acc"].iloc[0]),
        "ensembles.bagging.test_acc": float(bag["test_acc"].iloc[-1]),
        "ensembles.bagging.mean_member_test_acc": float(bag["member_test_acc"].mean()),
        "ensembles.bagging.members": float(len(bag)),
        "ensembles.hist_gradient_boosting.test_acc": float(gradient_boosting["test_acc"].iloc[-1]),
    }
    if len(boosting):
        metrics |= {"ensembles.samme_mlp.test_acc": float(boosting["test_acc"].iloc[-1]),
                    "ensembles.samme_mlp.first_learner_test_acc": float(boosting["member_test_acc"].iloc[0]),
                    "ensembles.samme_mlp.rounds": float(len(boosting))}
    return curve, metrics_for_mlflow(metrics)
