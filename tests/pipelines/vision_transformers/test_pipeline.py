"""End to end: `kedro run --pipeline=vision_transformers --env test`, its catalog outputs
(under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import json

import mlflow
import mlflow.pytorch
import pandas as pd
import torch
from mlflow.tracking import MlflowClient

from dl_roadmap.pipelines.vision_transformers import create_pipeline

from tests.conftest import logged_models

AREA = "vision_transformers"
REPORTS = f"data/test/08_reporting/{AREA}"
PLOTS = ["data_hunger", "attention", "rollout"]
PNG = b"\x89PNG\r\n\x1a\n"


def test_pipeline_sweeps_then_runs_the_stages() -> None:
    names = {node.name for node in create_pipeline().nodes}
    assert {"data_hunger", "plot_attention", f"{AREA}.tune.optimize",
            f"{AREA}.compress.distill_student", f"{AREA}.explain.explain_with_shap"} <= names


def test_outputs_are_in_the_catalog(vision_transformers_run) -> None:
    project, _ = vision_transformers_run
    reports = project / REPORTS
    summary = json.loads((reports / "ingest_summary.json").read_text())
    assert (summary["train_size"], summary["stages"]["train_size"]) == (600, 300)
    results = pd.read_csv(reports / "results.csv")
    assert len(results) == 2 * 3, "two models x three sizes"
    assert sorted(set(results["train_size"])) == [100, 300, 600], "the last run (null) is all 600"
    assert results["test_acc"].between(0, 1).all() and set(results["dataset"]) == {"mnist"}
    table = results.set_index("model")
    assert (table.loc["vit", "epochs"].tolist(), table.loc["cnn", "epochs"].tolist()) == ([2, 1, 1], [2, 1, 1])
    vit, cnn = table.loc["vit", "parameters"].iloc[0], table.loc["cnn", "parameters"].iloc[0]
    assert abs(cnn - vit) / vit < 0.05, "the CNN has the ViT's parameter count"
    histories = pd.read_csv(reports / "histories.csv")
    assert len(histories) == 2 * (2 + 1 + 1)
    for plot in PLOTS:
        assert (reports / f"{plot}.png").read_bytes()[:8] == PNG
    assert (reports / "tune" / "trials.csv").is_file()
    assert set(pd.read_csv(reports / "compress" / "results.csv")["variant"]) == {
        "fp32", "dynamic_int8", "pruned_unstructured", "distilled"}
    assert (reports / "explain" / "faithfulness.csv").is_file()
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(vision_transformers_run) -> None:
    project, run = vision_transformers_run
    for name in ("mnist_vit_all_test_acc", "mnist_cnn_100_test_acc", "mnist_vit_300_test_acc"):
        assert 0.0 <= run.data.metrics[name] <= 1.0
    assert "mnist/vit_all/val_acc" in run.data.metrics, "per-epoch metrics of each training"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10), "images in, class logits out"
    assert len(model.attention_maps(torch.zeros(1, 1, 28, 28))) == 2, "the test ViT has two layers"
