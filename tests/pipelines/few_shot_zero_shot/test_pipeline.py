"""End to end: `kedro run --pipeline=few_shot_zero_shot --env test`, its catalog outputs
(under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import json

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "few_shot_zero_shot"
PLOTS = ("confusion", "seen_unseen_curve", "attributes")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert len(results) == 2 and results[["acc_seen", "acc_unseen", "harmonic_mean"]].stack().between(0, 100).all()
    assert results["harmonic_mean"].iloc[1] >= results["harmonic_mean"].iloc[0], "the best gamma includes gamma = 0's neighbourhood"
    curve = pd.read_csv(reports / "seen_unseen_curve.csv")
    assert len(curve) == 21 and curve["acc_unseen"].iloc[0] == 0
    summary = json.loads((reports / "ingest_summary.json").read_text())
    assert summary["unseen"] == ["Pullover", "Dress", "Sneaker"] and summary["train_size"] == 1000
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    faithfulness = pd.read_csv(reports / "explain" / "faithfulness.csv")
    assert {"shap", "lime", "random"} <= set(faithfulness["method"])
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["harmonic_mean"] <= 100.0
    assert "few_shot_zero_shot/val_loss" in run.data.metrics or "few_shot_zero_shot/val_acc" in run.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == ["few_shot_zero_shot_dual_encoder"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10), "images in, scores over all ten classes out"
