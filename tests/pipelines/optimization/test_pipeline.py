"""End to end: `kedro run --pipeline=optimization --env test`, its catalog outputs and its
MLflow run; and the pipeline's shape."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from dl_roadmap.pipelines.optimization import create_pipeline

REPORTS = "data/test/08_reporting/optimization"
OPTIMIZERS = ["gd", "sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"]
DEPTH = ["sigmoid", "sigmoid_bn", "relu_he", "relu_he_bn"]
CLIPPING = ["none", "norm", "value"]
PLOTS = ["optimizer_curves", "lr_sweep", "weight_ema", "loss_smoothing", "depth_gradients", "clipping"]
TABLES = ["histories", "steps", "weight_ema", "compare", "lr_sweep", "depth_grad_norms", "depth_histories", "depth",
          "clipping_steps", "clipping_histories", "clipping", "loss_smoothing", "results"]
PNG = b"\x89PNG\r\n\x1a\n"


def test_pipeline_runs_the_experiments_then_tunes_without_compress_or_explain():
    pipeline = create_pipeline()
    names = {node.name for node in pipeline.nodes}
    assert {"compare_optimizers", "sweep_learning_rates", "gradient_flow", "train_with_clipping",
            "optimization.tune.optimize"} <= names
    assert not any(name.startswith(("optimization.compress", "optimization.explain")) for name in names)
    assert pipeline.inputs() >= {"mnist_raw", "params:optimization.tuning"}


def test_catalog_outputs_are_written(optimization_run):
    project, _ = optimization_run
    reports = project / REPORTS
    summary = json.loads((reports / "ingest_summary.json").read_text())
    assert (summary["train_size"], summary["val_size"], summary["test_size"]) == (1000, 200, 500)
    for table in TABLES:
        assert len(pd.read_csv(reports / f"{table}.csv")) > 0, table
    for plot in PLOTS:
        assert (reports / f"{plot}.png").read_bytes()[:8] == PNG, plot

    compare = pd.read_csv(reports / "compare.csv").set_index("variant")
    assert list(compare.index) == OPTIMIZERS
    assert compare.loc["gd", "batch_size"] == 1000 and compare.loc["gd", "steps"] == 4, "full batch: a step per epoch"
    assert compare.loc["sgd", "steps"] == 2 * 10 and compare.loc["sgd", "epochs"] == 2
    assert compare.loc["adam", "optimizer"] == "Adam" and compare.loc["nesterov", "optimizer"] == "SGD"
    assert compare[["test_acc", "test_acc_weight_ema"]].stack().between(0, 1).all()
    assert compare["test_acc"].max() > 0.3, "the best beats chance (10%)"

    steps = pd.read_csv(reports / "steps.csv")
    assert steps.groupby("variant")["step"].count().to_dict() == compare["steps"].to_dict()
    assert (steps["grad_norm"] > 0).all() and np.isfinite(steps["loss"]).all()

    sweep = pd.read_csv(reports / "lr_sweep.csv")
    assert sorted(zip(sweep["variant"], sweep["lr_factor"])) == [("adam", 1.0), ("adam", 10.0), ("sgd", 1.0), ("sgd", 10.0)]
    adam = sweep[sweep["variant"] == "adam"].set_index("lr_factor")["lr"]
    assert np.isclose(adam[10.0], 10 * adam[1.0])

    norms = pd.read_csv(reports / "depth_grad_norms.csv")
    assert sorted(norms["variant"].unique()) == sorted(DEPTH)
    assert sorted(norms["layer"].unique()) == [1, 2, 3, 4, 5], "4 hidden layers and the output layer"
    depth = pd.read_csv(reports / "depth.csv").set_index("variant")
    # Even 4 layers deep, sigmoid gradients shrink toward the input, and batch norm or
    # ReLU with He initialisation keeps them at the output layer's scale.
    assert depth.loc["sigmoid", "first_to_last_grad_ratio"] < 0.2
    assert depth.loc["relu_he", "first_to_last_grad_ratio"] > 3 * depth.loc["sigmoid", "first_to_last_grad_ratio"]

    clipping = pd.read_csv(reports / "clipping.csv").set_index("variant")
    assert list(clipping.index) == CLIPPING
    assert clipping.loc["none", "clip"] == "none" and clipping.loc["norm", "clip"] == "norm 1"
    clip_steps = pd.read_csv(reports / "clipping_steps.csv")
    assert clip_steps.groupby("variant")["step"].count().to_dict() == {v: 2 * 4 for v in CLIPPING}

    smoothed = pd.read_csv(reports / "loss_smoothing.csv")
    assert smoothed["step"].tolist() == list(range(1, len(steps[steps["variant"] == "sgd"]) + 1))
    assert smoothed.loc[0, "ema_corrected"] == smoothed.loc[0, "loss"], "corrected EMA at step 1 = the value"
    assert np.isclose(smoothed.loc[0, "ema"], 0.1 * smoothed.loc[0, "loss"]), "plain EMA at step 1 = (1 - beta) x"

    assert len(pd.read_csv(reports / "tune/trials.csv")) == 2
    assert list((project / "data/test/06_models/optimization/tuned_model.pt").glob("*/tuned_model.pt"))


def test_one_mlflow_run_holds_every_variant(optimization_run):
    project, run = optimization_run
    assert run.info.status == "FINISHED"
    assert run.data.params["optimization.model.width"] == "32"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    metrics = run.data.metrics
    for variant in OPTIMIZERS:
        assert 0.0 <= metrics[f"compare.{variant}.test_acc"] <= 1.0
        assert 0.0 <= metrics[f"compare.{variant}.test_acc_weight_ema"] <= 1.0
        epochs = 4 if variant == "gd" else 2
        for curve in ("train_loss", "val_acc", "epoch_seconds"):
            steps = [m.step for m in client.get_metric_history(run.info.run_id, f"{variant}/{curve}")]
            assert sorted(steps) == list(range(epochs)), f"{variant}/{curve}: one value per epoch"
    for variant in DEPTH:
        assert metrics[f"depth.{variant}.first_to_last_grad_ratio"] > 0
        assert len(client.get_metric_history(run.info.run_id, f"depth_{variant}/val_acc")) == 1
    for variant in CLIPPING:
        assert metrics[f"clipping.{variant}.max_grad_norm"] > 0
        assert len(client.get_metric_history(run.info.run_id, f"clip_{variant}/val_acc")) == 2
    assert "lr_sweep.adam.best_lr" in metrics and "smoothing.loss.ema_corrected_step1" in metrics
    assert "tune.best_trial_value" in metrics and "tune.tuned_test_acc" in metrics
    artifacts = {a.path for folder in ("plots", "tables", "tune", "data")
                 for a in client.list_artifacts(run.info.run_id, folder)}
    assert {f"plots/{p}.png" for p in PLOTS} <= artifacts
    assert {f"tables/{t}.csv" for t in TABLES} <= artifacts
    assert {"tune/trials.csv", "data/ingest_summary.json"} <= artifacts
