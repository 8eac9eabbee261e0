"""End to end: `kedro run --pipeline=vision_transformers_fashion --env test`, its catalog
outputs (under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import json

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.parameters import assert_named_before_the_run

from tests.conftest import logged_models

AREA = "vision_transformers_fashion"
REPORTS = f"data/test/08_reporting/{AREA}"
PLOTS = ["data_hunger", "attention", "rollout"]
PNG = b"\x89PNG\r\n\x1a\n"


def test_outputs_are_in_the_catalog(fashion_run) -> None:
    project, _ = fashion_run
    reports = project / REPORTS
    summary = json.loads((reports / "ingest_summary.json").read_text())
    assert summary["train_size"] == 600 and summary["class_names"][0] == "T-shirt/top"
    results = pd.read_csv(reports / "results.csv")
    assert sorted(zip(results["model"], results["train_size"])) == [("cnn", 100), ("cnn", 600), ("vit", 100),
                                                                     ("vit", 600)]
    assert set(results["dataset"]) == {"fashion_mnist"} and results["test_acc"].between(0, 1).all()
    for plot in PLOTS:
        assert (reports / f"{plot}.png").read_bytes()[:8] == PNG
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(fashion_run) -> None:
    project, run = fashion_run
    assert 0.0 <= run.data.metrics["fashion_mnist_vit_all_test_acc"] <= 1.0
    assert "fashion_mnist/cnn_100/val_acc" in run.data.metrics, "per-epoch metrics of each training"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10), "images in, class logits out"


@pytest.mark.parametrize(("path", "value", "key", "problem"), [
    ("vit.patch_size", 6, "vit", "patch_size (6) must divide image_size (28)"),
    ("hunger.fit.max_epochs", 0, "hunger.fit.max_epochs", "greater than 0"),
])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem) -> None:
    assert_named_before_the_run(AREA, path, value, key, problem)
