"""End to end: `kedro run --pipeline=activations --env test`, its catalog outputs and its
MLflow run; and the pipeline's shape."""

from __future__ import annotations

import json

import pandas as pd
from mlflow.tracking import MlflowClient

from dl_roadmap.pipelines.activations import create_pipeline

REPORTS = "data/test/08_reporting/activations"
VARIANTS = ["relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh"]
PLOTS = ["training_curves", "depth_profile", "dead_units"]
PNG = b"\x89PNG\r\n\x1a\n"


def test_pipeline_compares_then_tunes_and_explains_without_compress():
    pipeline = create_pipeline()
    names = {node.name for node in pipeline.nodes}
    assert {"train_variants", "activations.tune.optimize", "activations.explain.explain_with_shap"} <= names
    assert not any(name.startswith("activations.compress") for name in names), "compress does not apply (README)"
    assert pipeline.inputs() >= {"mnist_raw", "params:activations.tuning"}


def test_catalog_outputs_are_written(activations_run):
    project, _ = activations_run
    summary = json.loads((project / REPORTS / "ingest_summary.json").read_text())
    assert (summary["train_size"], summary["val_size"], summary["test_size"]) == (1000, 200, 500)

    results = pd.read_csv(project / REPORTS / "results.csv")
    assert sorted(results["variant"]) == sorted(VARIANTS)
    assert results["test_acc"].is_monotonic_decreasing, "best first"
    assert results["test_acc"].between(0.0, 1.0).all() and results["test_acc"].max() > 0.3, "the best beats chance (10%)"
    assert (results["epochs"] == 2).all(), "one budget for all"
    assert (results["seconds_per_epoch"] > 0).all()
    by_variant = results.set_index("variant")
    assert by_variant.loc["selu", "init"] == "lecun" and by_variant.loc["selu", "dropout"].startswith("AlphaDropout")
    assert by_variant.loc["relu", "init"] == "he" and by_variant.loc["tanh", "init"] == "xavier"
    assert by_variant.loc[["relu", "leaky_relu"], "dead_fraction_trained"].between(0, 1).all()
    assert by_variant.loc[["elu", "selu", "sigmoid", "tanh"], "dead_fraction_trained"].isna().all()

    stats = pd.read_csv(project / REPORTS / "layer_stats.csv")
    assert len(stats) == len(VARIANTS) * 2 * 6, "variants x (init, trained) x 6 hidden layers"
    selu_init = stats[(stats["variant"] == "selu") & (stats["phase"] == "init")]
    sigmoid_init = stats[(stats["variant"] == "sigmoid") & (stats["phase"] == "init")]
    # On real digits at initialisation: SELU stays near mean 0 / std 1 through depth;
    # sigmoid outputs sit around 0.5 with a small spread.
    assert selu_init["mean"].abs().max() < 0.3 and (selu_init["std"] - 1).abs().max() < 0.3
    assert (sigmoid_init["mean"] - 0.5).abs().max() < 0.1 and sigmoid_init["std"].iloc[-1] < 0.3

    histories = pd.read_csv(project / REPORTS / "histories.csv")
    assert histories.groupby("variant")["epoch"].count().to_dict() == {v: 2 for v in VARIANTS}
    for plot in PLOTS:
        assert (project / REPORTS / f"{plot}.png").read_bytes()[:8] == PNG
    # The stages' outputs land in their own folders (no area pattern catches them).
    trials = pd.read_csv(project / REPORTS / "tune/trials.csv")
    assert len(trials) == 3
    assert (project / REPORTS / "tune/slice.png").read_bytes()[:8] == PNG
    faithfulness = pd.read_csv(project / REPORTS / "explain/faithfulness.csv")
    assert {"shap", "lime", "random"} <= set(faithfulness["method"])
    assert list((project / "data/test/06_models/activations/tuned_model.pt").glob("*/tuned_model.pt"))


def test_one_mlflow_run_holds_every_variant(activations_run):
    project, run = activations_run
    assert run.info.status == "FINISHED"
    assert run.data.params["activations.model.depth"] == "6"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    for variant in VARIANTS:
        assert 0.0 <= run.data.metrics[f"{variant}.test_acc"] <= 1.0
        assert run.data.metrics[f"{variant}.seconds_per_epoch"] > 0
        for curve in ("val_acc", "train_loss", "epoch_seconds"):
            steps = [m.step for m in client.get_metric_history(run.info.run_id, f"{variant}/{curve}")]
            assert sorted(steps) == [0, 1], f"{variant}/{curve}: one value per epoch"
    assert "relu.dead_fraction_trained" in run.data.metrics
    assert "selu.dead_fraction_trained" not in run.data.metrics
    assert "tune.best_trial_value" in run.data.metrics and "tune.tuned_test_acc" in run.data.metrics
    assert "explain.shap.deletion_auc" in run.data.metrics
    artifacts = {a.path for folder in ("plots", "tables", "tune", "explain")
                 for a in client.list_artifacts(run.info.run_id, folder)}
    assert {f"plots/{p}.png" for p in PLOTS} <= artifacts
    assert {"tables/results.csv", "tables/layer_stats.csv", "tables/histories.csv"} <= artifacts
    assert {"tune/trials.csv", "explain/faithfulness.csv"} <= artifacts
