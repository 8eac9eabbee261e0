"""End to end: `kedro run --pipeline=neural_odes --env test`, its catalog outputs (under the
test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "neural_odes"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert list(results["model"]) == ["odenet_dopri5", "odenet_rk4", "resnet"]
    assert results["test_acc"].between(0, 1).all()
    nfe = pd.read_csv(reports / "nfe.csv")
    assert set(nfe["model"]) == {"odenet_dopri5", "odenet_rk4"}
    assert (nfe[nfe["model"] == "odenet_dopri5"]["nfe_backward"] > 0).all(), "adjoint: a backward solve"
    assert (nfe[nfe["model"] == "odenet_rk4"]["nfe_backward"] == 0).all(), "backprop: no backward solve"
    memory = pd.read_csv(reports / "memory.csv").pivot(index="steps", columns="method", values="peak_mib")
    assert memory["adjoint"].nunique() == 1 and memory["backprop"].is_monotonic_increasing
    depth = pd.read_csv(reports / "depth.csv")
    assert {"euler", "rk4", "dopri5 reference"} == set(depth["method"])
    for plot in ("training_curves", "nfe", "memory", "depth"):
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert (reports / "tune" / "trials.csv").is_file()
    assert (reports / "explain" / "faithfulness.csv").is_file()
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["odenet_dopri5.test_acc"] <= 1.0
    assert f"{AREA}_odenet_dopri5/val_acc" in run.data.metrics, "per-epoch metrics of the training"
    assert f"{AREA}_odenet_dopri5/nfe_forward" in run.data.metrics, "NFE per epoch"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/nfe.png", "plots/memory.png", "plots/depth.png"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10), "images in, class logits out"
