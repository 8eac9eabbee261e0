"""End to end: `kedro run --pipeline=generative_gans --env test`, its outputs and MLflow run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image

from tests.conftest import logged_models, run_area

AREA = "generative_gans"
PLOTS = ("samples", "losses", "yardstick_per_epoch", "mode_collapse", "yardstick")
RUNS = ("dcgan_mnist", "wgan_gp_mnist", "cgan_mnist",
        "dcgan_fashion_mnist", "wgan_gp_fashion_mnist", "cgan_fashion_mnist")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    table = pd.read_csv(reports / "yardstick.csv")
    assert set(RUNS) <= set(table["model"]) and (table["model"] == "reference: real images").sum() == 2
    histories = pd.read_csv(reports / "histories.csv")
    assert set(histories["run"]) == set(RUNS)
    assert {"train_loss_discriminator", "train_loss_generator", "val_fid", "val_recall", "val_classes_covered"} <= set(
        histories.columns), "losses and the yardstick per epoch"
    assert histories.groupby("run").size().eq(2).all(), "two epochs each in the test environment"
    gif = Image.open(reports / "samples_through_training.gif")
    assert gif.n_frames == 2
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    ring = pd.read_csv(reports / "ring.csv")
    assert set(ring["setting"]) == {"plain", "packed"} and ring.groupby("setting").size().eq(2).all()
    assert ring["modes_covered"].between(0, 8).all() and ring["high_quality"].between(0, 1).all()
    assert not (project / "data" / "08_reporting" / AREA).exists()


def test_the_mlflow_run_has_metrics_and_every_generator_as_a_model(area_run) -> None:
    project, run = area_run
    assert "dcgan_mnist_fid" in run.data.metrics and "cgan_fashion_mnist_recall" in run.data.metrics
    assert "wgan_gp_mnist/val_fid" in run.data.metrics, "the yardstick per epoch"
    assert "ring_packed_modes_covered" in run.data.metrics and "ring_plain/modes_covered" in run.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} | {"plots/samples_through_training.gif"} <= artifacts
    models = {model.name: model for model in logged_models(project, run)}
    assert {f"generative_gans_{run_name}" for run_name in RUNS} <= set(models)
    import mlflow

    loaded = mlflow.pyfunc.load_model(models["generative_gans_cgan_mnist"].model_uri)
    images = loaded.predict(pd.DataFrame({"n": [4], "seed": [0], "label": [3]}))
    assert images.shape == (4, 1, 28, 28) and images.dtype == np.float32
