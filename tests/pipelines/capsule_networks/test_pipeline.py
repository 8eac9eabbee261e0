"""End to end: `kedro run --pipeline=capsule_networks --env test`, its catalog outputs
(under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "capsule_networks"
PLOTS = ("training_curves", "confusion_matrix", "reconstructions", "capsule_dimensions", "affine_examples")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    values = dict(zip(results["metric"], results["value"]))
    for name in ("test_clean_acc", "test_shifted_acc", "test_affine_acc", "val_acc"):
        assert 0.0 <= values[name] <= 1.0, name
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0, plot
    assert len(pd.read_csv(reports / "tune" / "trials.csv")) == 2
    assert (reports / "explain" / "faithfulness.csv").is_file()
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["test_clean_acc"] <= 1.0
    assert f"{AREA}/val_acc" in run.data.metrics or any(k.endswith("/val_acc") for k in run.data.metrics), \
        "per-epoch metrics of the training"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    lengths = model(torch.rand(2, 1, 28, 28))
    assert lengths.shape == (2, 10) and ((lengths >= 0) & (lengths < 1)).all(), "images in, capsule lengths out"
