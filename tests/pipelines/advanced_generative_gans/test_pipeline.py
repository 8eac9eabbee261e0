"""End to end: `kedro run --pipeline=advanced_generative_gans --env test`, its catalog outputs
(under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "advanced_generative_gans"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    table = pd.read_csv(reports / "yardstick.csv")
    assert {"model", "n", "fid", "precision", "recall"} <= set(table.columns)
    assert {"StyleGAN psi=0.5", "StyleGAN psi=1", "BigGAN threshold=1", "BigGAN threshold=inf"} <= set(table["model"])
    per_class = pd.read_csv(reports / "biggan_per_class.csv")
    assert list(per_class["class"]) == list(range(10)) and per_class["classified_as_class"].between(0, 1).all()
    assert list(pd.read_csv(reports / "stylegan_truncation.csv")["psi"]) == [0.5, 1.0]
    for plot in ("style_mixing", "style_noise", "biggan_classes", "stylegan_truncation", "biggan_truncation",
                 "training", "yardstick"):
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_both_generators(area_run) -> None:
    project, run = area_run
    assert "stylegan.psi_1.fid" in run.data.metrics and "biggan.per_class.classified_as_class_mean" in run.data.metrics
    assert f"{AREA}_stylegan/d_loss" in run.data.metrics, "per-iteration training metrics"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/style_mixing.png", "plots/stylegan_truncation.png", "plots/biggan_classes.png"} <= artifacts
    models = {m.name: m for m in logged_models(project, run)}
    assert set(models) == {f"{AREA}_stylegan", f"{AREA}_biggan"}
    style = mlflow.pyfunc.load_model(models[f"{AREA}_stylegan"].model_uri)
    images = style.predict(pd.DataFrame({"n": [2], "seed": [0]}))
    assert images.shape == (2, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    big = mlflow.pyfunc.load_model(models[f"{AREA}_biggan"].model_uri)
    assert big.predict(pd.DataFrame({"n": [2, 3], "seed": [0, 1], "label": [4, 9]})).shape == (5, 1, 28, 28)
    with pytest.raises(Exception, match="label"):
        big.predict(pd.DataFrame({"n": [2], "seed": [0]}))
