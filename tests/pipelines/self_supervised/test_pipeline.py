"""End to end: `kedro run --pipeline=self_supervised --env test`, its catalog outputs (under
the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "self_supervised"
PLOTS = ("loss_curves", "frozen_accuracy", "alignment_uniformity", "tsne")
REPRESENTATIONS = {"raw pixels", "random", "simclr", "moco", "byol", "rotation", "autoencoder", "supervised"}


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert set(results["representation"]) == REPRESENTATIONS
    assert results[["linear_probe", "knn"]].stack().between(0, 1).all()
    assert (results.set_index("representation").loc["raw pixels", "dimensions"] == 784)
    history = pd.read_csv(reports / "history.csv")
    assert set(history["method"]) == REPRESENTATIONS - {"raw pixels", "random"}
    assert (history.groupby("method").size() == 2).all(), "conf/test: 2 epochs per method"
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert set(pd.read_csv(reports / "explain" / "faithfulness.csv")["method"]) >= {"shap", "lime", "random"}
    encoders = list((project / "data" / "test" / "06_models" / AREA / "encoders.pkl").iterdir())
    assert len(encoders) == 1, "one version of the encoders per run"
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_encoder(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["frozen.simclr.linear_probe"] <= 1.0
    assert 0.0 <= run.data.metrics["classifier.test_acc"] <= 1.0
    assert "self_supervised/simclr/train_loss" in run.data.metrics, "per-epoch metrics of the pretraining"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_encoder"]
    encoder = mlflow.pytorch.load_model(models[0].model_uri)
    assert encoder(torch.rand(2, 1, 28, 28)).shape == (2, 16), "images in [0, 1] in, features (latent_dim) out"
