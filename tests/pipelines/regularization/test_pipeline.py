"""End to end: `kedro run --pipeline=regularization --env test`, its catalog outputs and
its MLflow run; and the pipeline's shape."""

from __future__ import annotations

import json

import pandas as pd
from mlflow.tracking import MlflowClient

from dl_roadmap.pipelines.regularization import create_pipeline

REPORTS = "data/test/08_reporting/regularization"
VARIANTS = ["none", "l1", "l2", "adamw", "dropout", "dropout_input", "dropconnect", "batchnorm", "early_stopping"]
PLOTS = ["train_test_gap", "training_curves", "validation_loss", "l2_vs_weight_decay", "fold_scores", "ensemble_size"]
TABLES = ["results", "histories", "weight_decay_sweep", "cv_folds", "cv_summary", "bagging", "boosting",
          "gradient_boosting", "ensembles"]
PNG = b"\x89PNG\r\n\x1a\n"


def test_pipeline_compares_then_tunes_and_explains_without_compress():
    pipeline = create_pipeline()
    names = {node.name for node in pipeline.nodes}
    assert {"train_variants", "cross_validate", "bag_networks", "boost_networks", "gradient_boosting_reference",
            "regularization.tune.optimize", "regularization.explain.explain_with_shap"} <= names
    assert not any(name.startswith("regularization.compress") for name in names), "compress does not apply (README)"
    assert pipeline.inputs() >= {"mnist_raw", "params:regularization.tuning", "params:regularization.base"}


def test_catalog_outputs_are_written(regularization_run):
    project, _ = regularization_run
    summary = json.loads((project / REPORTS / "ingest_summary.json").read_text())
    assert (summary["train_size"], summary["val_size"], summary["test_size"]) == (300, 60, 1000)

    results = pd.read_csv(project / REPORTS / "results.csv")
    assert sorted(results["variant"]) == sorted(VARIANTS)
    assert results["test_acc"].is_monotonic_decreasing, "best first"
    assert ((results["gap"] - (results["train_acc"] - results["test_acc"])).abs() < 1e-9).all()
    assert results["test_acc"].max() > 0.3, "the best beats chance (10%)"
    by_variant = results.set_index("variant")
    assert (by_variant.drop(index="early_stopping")["epochs"] == 3).all(), "one budget for all"
    assert by_variant.loc["none", "test_acc_vs_reference"] == 0

    folds = pd.read_csv(project / REPORTS / "cv_folds.csv")
    assert len(folds) == 2 * 2 and folds["held_out_size"].sum() == 2 * 300
    cv = pd.read_csv(project / REPORTS / "cv_summary.csv")
    assert cv["chosen"].sum() == 1 and cv.loc[cv["chosen"], "retrained_test_acc"].between(0, 1).all()

    ensembles = pd.read_csv(project / REPORTS / "ensembles.csv")
    assert (ensembles["method"] == "bagging").sum() == 3
    assert (ensembles["method"] == "hist_gradient_boosting").sum() == 5
    assert 1 <= (ensembles["method"] == "samme_mlp").sum() <= 3
    sweep = pd.read_csv(project / REPORTS / "weight_decay_sweep.csv")
    assert sorted(sweep["method"]) == ["adam_l2", "adamw"]
    for table in TABLES:
        assert (project / REPORTS / f"{table}.csv").exists(), table
    for plot in PLOTS:
        assert (project / REPORTS / f"{plot}.png").read_bytes()[:8] == PNG, plot
    # The stages' outputs land in their own folders (no area pattern catches them).
    assert len(pd.read_csv(project / REPORTS / "tune/trials.csv")) == 2
    assert {"shap", "lime", "random"} <= set(pd.read_csv(project / REPORTS / "explain/faithfulness.csv")["method"])
    assert list((project / "data/test/06_models/regularization/tuned_model.pt").glob("*/tuned_model.pt"))


def test_one_mlflow_run_holds_every_part(regularization_run):
    project, run = regularization_run
    assert run.info.status == "FINISHED"
    assert run.data.params["regularization.data.train_limit"] == "300"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    metrics = run.data.metrics
    for variant in VARIANTS:
        for column in ("train_acc", "test_acc", "gap", "weight_l2"):
            assert f"{variant}.{column}" in metrics, f"{variant}.{column}"
        steps = [m.step for m in client.get_metric_history(run.info.run_id, f"{variant}/val_acc")]
        assert len(steps) == len(set(steps)) >= 1, f"{variant}/val_acc: one value per epoch"
    assert {"cv.chosen", "cv.retrained_test_acc", "cv.0.0.mean", "cv.0.5.std"} <= set(metrics)
    assert {"ensembles.single.test_acc", "ensembles.bagging.test_acc",
            "ensembles.hist_gradient_boosting.test_acc", "ensembles.samme_mlp.test_acc"} <= set(metrics)
    assert "tune.best_trial_value" in metrics and "tune.tuned_test_acc" in metrics
    assert "explain.shap.deletion_auc" in metrics
    artifacts = {a.path for folder in ("plots", "tables", "tune", "explain")
                 for a in client.list_artifacts(run.info.run_id, folder)}
    assert {f"plots/{p}.png" for p in PLOTS} <= artifacts
    assert {f"tables/{t}.csv" for t in TABLES} <= artifacts
    assert {"tune/trials.csv", "explain/faithfulness.csv"} <= artifacts
