"""Nodes of few_shot: Omniglot in, three embeddings trained on one background set, scored
on episodes of the other set's alphabets and on Lake et al.'s 20 one-shot runs beside the
modified Hausdorff distance. Plain functions of plain values."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.image.fewshot_episodes import embed, mean_and_ci
from dl_roadmap.image.fewshot_omniglot import mhd_run_errors, omniglot_splits, read_runs
from dl_roadmap.pipelines.few_shot.evaluate import one_shot_run_errors, score_settings
from dl_roadmap.pipelines.few_shot.train import train_baseline, train_episodic

logger = logging.getLogger(__name__)

# Test accuracy (%) on Omniglot, 28x28, trained on the 1,200-character background split with
# rotations (x4 = 4,800 classes): 5-way 1-shot, 5-way 5-shot, 20-way 1-shot, 20-way 5-shot.
# Snell et al. 2017, Table 1; Vinyals et al. 2016, Table 1 (Matching Nets, cosine, no fine-tuning).
PUBLISHED = {"protonet": {(5, 1): 98.8, (5, 5): 99.7, (20, 1): 96.0, (20, 5): 98.9},
             "matching": {(5, 1): 98.1, (5, 5): 98.9, (20, 1): 93.8, (20, 5): 98.5}}
PUBLISHED_SOURCE = {"protonet": "Snell et al. 2017, Table 1", "matching": "Vinyals et al. 2016, Table 1"}
FULL_BACKGROUND_CHARACTERS = 1200  # the Vinyals split's training characters (Omniglot's 964 background + 236 evaluation)
# Error rate (%) on the 20 runs of 20-way one-shot classification: Lake, Salakhutdinov and
# Tenenbaum 2015 (Science), one-shot classification results (people, Bayesian program
# learning, a Siamese convnet after Koch et al. 2015, modified Hausdorff distance).
LAKE_PUBLISHED = {"people": 4.5, "bayesian_program_learning": 3.3, "siamese_network": 8.0,
                  "modified_hausdorff": 38.8}


def ingest(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Training set (rotations as new classes), test set of alphabets training never saw, summary."""
    data, summary = omniglot_splits(params)
    summary["literature_train_characters"] = FULL_BACKGROUND_CHARACTERS
    summary["share_of_literature_characters"] = round(summary["train_characters"] / FULL_BACKGROUND_CHARACTERS, 3)
    logger.info("Omniglot: %d training characters (%d classes with rotations), %d test characters",
                summary["train_characters"], summary["train_classes"], summary["test_characters"])
    return data, summary


def ingest_runs(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Lake et al.'s 20-way one-shot runs (the first ``params["runs"]``)."""
    return read_runs(size=params["size"], runs=params["runs"])


def train_models(data: dict[str, Any], params: dict[str, Any],
                 trainer: dict[str, Any]) -> tuple[dict[str, nn.Module], pd.DataFrame]:
    """ProtoNet and Matching Networks trained on episodes, the baseline as a classifier.

    Returns:
        The embeddings by method, and one history table (method, iteration, loss, acc, seconds).
    """
    models, histories = {}, []
    for method in ("protonet", "matching"):
        models[method], history = train_episodic(method, data["train"], params[method], trainer,
                                                    params[method]["loop"].get("seed", 0))
        histories.append(history.assign(method=method))
    models["baseline"], history = train_baseline(data["train"], params["baseline"], trainer,
                                                      params["baseline"]["loop"].get("seed", 0))
    histories.append(history.assign(method="baseline"))
    return models, pd.concat(histories, ignore_index=True)


def evaluate(models: dict[str, nn.Module], data: dict[str, Any], params: dict[str, Any],
             train_params: dict[str, Any]) -> pd.DataFrame:
    """Accuracy with its 95% interval of every method in every (way, shot) setting of
    ``params``, on the same test episodes, beside the published figure."""
    embeddings = {method: embed(model, data["test"]) for method, model in models.items()}
    settings = {"matching_scale": train_params["matching"]["scale"], "head": train_params["baseline"]["head"]}
    table = pd.DataFrame(score_settings(embeddings, params, settings))
    table["published"] = [PUBLISHED.get(m, {}).get((w, s), np.nan)
                          for m, w, s in zip(table["method"], table["way"], table["shot"])]
    table["published_source"] = [PUBLISHED_SOURCE.get(m, "") for m in table["method"]]
    return table


def one_shot_runs(model: nn.Module, runs: list[dict[str, Any]]) -> pd.DataFrame:
    """Error rate (%) on Lake's runs: our modified Hausdorff distance and the ProtoNet embedding
    (1-shot nearest prototype), each with the spread over runs, beside the published rates."""
    rows = []
    for method, errors in (("modified_hausdorff", mhd_run_errors(runs)),
                           ("protonet", one_shot_run_errors(model, runs))):
        mean, ci = mean_and_ci(errors) if len(errors) > 1 else (float(errors.mean()), float("nan"))
        rows.append({"method": method, "runs": len(runs), "error_rate": 100 * mean, "ci95": 100 * ci,
                     "published_error_rate": LAKE_PUBLISHED.get(method, np.nan)})
    for method in ("people", "bayesian_program_learning", "siamese_network"):
        rows.append({"method": method, "runs": 20, "error_rate": np.nan, "ci95": np.nan,
                     "published_error_rate": LAKE_PUBLISHED[method]})
    return pd.DataFrame(rows)


def summary_metrics(results: pd.DataFrame, runs: pd.DataFrame) -> dict[str, dict[str, float]]:
    """``<method>_<way>way_<shot>shot_acc`` (and ``_ci95``), ``lake_<method>_error`` for MLflow."""
    metrics = {}
    for row in results.itertuples():
        metrics[f"{row.method}_{row.way}way_{row.shot}shot_acc"] = row.accuracy
        metrics[f"{row.method}_{row.way}way_{row.shot}shot_ci95"] = row.ci95
    for row in runs.dropna(subset=["error_rate"]).itertuples():
        metrics[f"lake_{row.method}_error"] = row.error_rate
    return metrics_for_mlflow(metrics)


def pick_model(models: dict[str, nn.Module]) -> nn.Module:
    """The ProtoNet embedding, kept as the area's model: (N, 1, 28, 28) in [0, 1] -> (N, 64)."""
    return models["protonet"].eval()


def log_model(model: nn.Module) -> nn.Module:
    """The ProtoNet embedding handed to MLflow: float images (N, 1, 28, 28) in [0, 1]
    (ink = 1) -> embeddings (N, channels); classify a query by the nearest class mean."""
    return model.eval()


@torch.no_grad()
def example_episode(model: nn.Module, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """One test episode (``params`` way, shot, query, seed) with ProtoNet's predictions."""
    from dl_roadmap.image.fewshot_episodes import episode_tensors
    from dl_roadmap.pipelines.few_shot.models import protonet_logits

    rng = np.random.default_rng(params["seed"])
    xs, ys, xq, yq = episode_tensors(data["test"], params["way"], params["shot"], params["query"], rng)
    model.eval()
    logits = protonet_logits(model(xq)[None], model(xs)[None], ys[None], params["way"])[0]
    return {"support": xs.numpy(), "support_labels": ys.numpy(), "query": xq.numpy(), "query_labels": yq.numpy(),
            "predicted": logits.argmax(1).numpy(), "probabilities": torch.softmax(logits, 1).numpy()}
