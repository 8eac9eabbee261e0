"""End to end: `kedro run --pipeline=efficient_architectures --env test`, its catalog outputs
(under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "efficient_architectures"
MEMBERS = {"plain_cnn", "mobilenet_v1", "mobilenet_v2", "efficientnet_b0", "squeezenet_1_0", "squeezenet_1_1"}


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    imagenet = pd.read_csv(reports / "imagenet_counts.csv")
    assert (imagenet["params"] == imagenet["published_params"]).all()
    family = pd.read_csv(reports / "family.csv")
    assert set(family["network"]) == MEMBERS
    assert family["test_acc"].between(0, 1).all() and (family["macs"] > 0).all() and (family["latency_ms"] > 0).all()
    assert family["pareto_macs"].any()
    quantization = pd.read_csv(reports / "quantization.csv")
    assert quantization["scheme"].tolist() == ["fp32", "int8 per tensor", "int8 per channel"]
    for plot in ("pareto", "training_curves", "imagenet_counts", "quantization"):
        assert (reports / f"{plot}.png").stat().st_size > 0
    compress = pd.read_csv(reports / "compress" / "results.csv")
    assert {"fp32", "static_int8", "qat_int8"} <= set(compress["variant"])
    assert (reports / "explain" / "faithfulness.csv").is_file()
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert run.data.metrics["imagenet/mobilenet_v2/params"] == 3_504_872
    assert 0.0 <= run.data.metrics["family/mobilenet_v2/test_acc"] <= 1.0
    assert "mobilenet_v2/val_acc" in run.data.metrics, "per-epoch metrics of the training"
    assert "quantization/int8_per_tensor/test_acc" in run.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/pareto.png", "plots/quantization.png", "plots/imagenet_counts.png"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_mobilenet_v2"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10), "images in, class logits out"
