"""End to end: `kedro run --pipeline=generative --env test`, its outputs and MLflow run."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "generative"
PLOTS = ("iwae", "interpolations", "manifold", "latent_codes", "rate_distortion", "beta_samples",
         "cvae_samples", "training_curves", "yardstick")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    bounds = pd.read_csv(reports / "bounds.csv")
    assert list(bounds["estimate"]) == ["ELBO", "IWAE", "IWAE", "IWAE"]
    table = pd.read_csv(reports / "yardstick.csv")
    assert {"model", "n", "fid", "precision", "recall", "classes_covered", "nll_nats"} <= set(table.columns)
    assert table["model"].str.startswith("reference").sum() == 2
    assert len(pd.read_csv(reports / "beta_sweep.csv")) == 2
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists()


def test_the_mlflow_run_has_metrics_plots_and_generator_models(area_run) -> None:
    project, run = area_run
    assert run.data.metrics["test_nll"] > 0
    assert "vae_test_elbo" in run.data.metrics and "beta_0.5_rate" in run.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    assert {f"plots/{plot}.png" for plot in PLOTS} <= {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert "latent_2d/val_elbo" in run.data.metrics and "cvae/val_rate" in run.data.metrics, "per-epoch metrics"
    names = {model.name for model in logged_models(project, run)}
    assert {"generative_vae", "generative_cvae"} <= names
