"""The continual-learning study both pipelines run (split MNIST, permuted MNIST): every method
in one scenario over seeds, the tables read from the accuracy matrices beside the published
figures, the logged model and the tune stage's objective. Plain functions of plain values."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
from torch import nn

from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.image.continual_tasks import TaskSequence, describe, permuted_sequence, split_sequence, transfer_metrics
from dl_roadmap.image.continual_training import train_sequence
from dl_roadmap.image.data import split_mnist

# (protocol, scenario, method) -> (published average accuracy in %, source)
Anchors = dict[tuple[str, str, str], tuple[float, str]]


def make_sequence(splits: dict[str, np.ndarray], sequence: dict[str, Any]) -> TaskSequence:
    """The task sequence of a ``sequence`` block: ``protocol`` split | permuted, ``tasks``, ``seed``."""
    if sequence["protocol"] == "split":
        return split_sequence(splits, int(sequence["tasks"]))
    return permuted_sequence(splits, int(sequence["tasks"]), int(sequence.get("seed", 0)))


def ingest(raw: dict[str, Any], data: dict[str, Any], sequence: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Seeded train/val/test splits of MNIST (the image library's split_mnist) and a summary
    of the tasks they make."""
    splits, summary = split_mnist(raw, data)
    summary.update(describe(make_sequence(splits, sequence)))
    return splits, summary


def settings_for(study: dict[str, Any], scenario: str, method: str) -> dict[str, Any]:
    """A method's settings, with the scenario's overrides (``overrides.<scenario>.<method>``) on top."""
    base = dict(study["settings"].get(method) or {})
    base.update(((study.get("overrides") or {}).get(scenario) or {}).get(method) or {})
    return base


def train_scenario(splits: dict[str, np.ndarray], study: dict[str, Any], trainer: dict[str, Any],
                   scenario: str) -> dict[str, dict[str, Any]]:
    """Every method of ``study`` over the sequence in one scenario, once per seed.

    Returns:
        ``{method: {"R": [per seed], "baseline": [...], "curve": DataFrame, "model": seed-0 model,
        "seconds": [...]}}``
    """
    seq = make_sequence(splits, study["sequence"])
    runs: dict[str, dict[str, Any]] = {}
    for method in study["methods"]:
        record: dict[str, Any] = {"R": [], "baseline": [], "seconds": [], "curve": [], "model": None}
        for seed in study["seeds"]:
            out = train_sequence(seq, scenario, method, study["training"], settings_for(study, scenario, method),
                                 trainer, name=f"{scenario}/{method}/seed{seed}", seed=int(seed))
            record["R"].append(out["R"])
            record["baseline"].append(out["baseline"])
            record["seconds"].append(out["seconds"])
            record["curve"].append(out["curve"].assign(seed=seed))
            if record["model"] is None:  # the first seed's network is the one logged
                record["model"] = out["model"]
        record["curve"] = pd.concat(record["curve"], ignore_index=True)
        runs[method] = record
    return runs


def summarise(runs_by_scenario: dict[str, dict[str, dict[str, Any]]], protocol: str, anchors: Anchors
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, dict[str, float]]]:
    """The results table (metrics in %, mean and std over seeds, beside the published average
    accuracy), the accuracy matrices (long form, seed mean), the task-1 curves and the MLflow metrics."""
    rows, cells, curves, metrics = [], [], [], {}
    for scenario, runs in runs_by_scenario.items():
        for method, record in runs.items():
            per_seed = pd.DataFrame([transfer_metrics(R, b) for R, b in zip(record["R"], record["baseline"])]) * 100
            published, source = anchors.get((protocol, scenario, method), (float("nan"), ""))
            row = {"scenario": scenario, "method": method, "seeds": len(per_seed)}
            for name in ("acc", "bwt", "fwt", "forgetting"):
                row[f"{name}_mean"] = float(per_seed[name].mean())
                row[f"{name}_std"] = float(per_seed[name].std(ddof=0))
                metrics[f"{scenario}_{method}_{name}"] = row[f"{name}_mean"]
            row.update({"published_acc": published, "source": source,
                        "seconds_per_seed": float(np.mean(record["seconds"]))})
            rows.append(row)
            R, b = np.mean(record["R"], axis=0), np.mean(record["baseline"], axis=0)
            for i in range(-1, len(R)):
                for j in range(len(R)):
                    cells.append({"scenario": scenario, "method": method, "after_task": i + 1, "task": j + 1,
                                  "acc": 100 * (b[j] if i < 0 else R[i, j])})
            curves.append(record["curve"].assign(scenario=scenario, method=method))
    return pd.DataFrame(rows), pd.DataFrame(cells), pd.concat(curves, ignore_index=True), metrics_for_mlflow(metrics)


def pick_model(runs: dict[str, dict[str, Any]], method: str) -> nn.Module:
    """The seed-0 network a method trained (the one handed to MLflow)."""
    if method not in runs:
        raise KeyError(f"model.method: {method!r} was not trained in this scenario; trained: {sorted(runs)}")
    return runs[method]["model"].eval()


def tune_objective(config: dict[str, Any], data: dict[str, np.ndarray], base: Any, trainer: dict[str, Any],
                   report: Callable[[float, int], None]) -> tuple[float, nn.Module]:
    """The tune stage's objective: train ``config['method']`` in ``config['scenario']`` and
    return the average accuracy over the tasks, measured on the validation split (the test
    split is never looked at), with the network."""
    seq = make_sequence(data, config["sequence"])
    training = {**config["training"], "eval_split": "val"}
    out = train_sequence(seq, config["scenario"], config["method"], training, config["settings"], trainer,
                         name=f"tune/{config['scenario']}/{config['method']}", seed=int(config.get("seed", 0)))
    value = transfer_metrics(out["R"], out["baseline"])["acc"]
    report(value, seq.n_tasks)
    return value, out["model"]
