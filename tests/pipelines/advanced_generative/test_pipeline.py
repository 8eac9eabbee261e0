"""End to end: `kedro run --pipeline=advanced_generative --env test`, its catalog outputs
(under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "advanced_generative"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert list(results["model"]) == ["realnvp", "glow"]
    assert (results["test_bits_per_dim"] > 0).all() and list(results["published_bits_per_dim"]) == [1.06, 1.05]
    table = pd.read_csv(reports / "yardstick.csv")
    assert {"model", "n", "fid", "precision", "recall", "nll_nats", "bits_per_dim"} <= set(table.columns)
    assert table["model"].str.startswith("reference").sum() == 2
    assert table.loc[table["model"] == "glow T=1", "bits_per_dim"].notna().all()
    toy = pd.read_csv(reports / "toy_results.csv")
    assert list(toy["density"]) == ["two_moons", "checkerboard"]
    for plot in ("toy_densities", "samples", "training", "temperature", "yardstick"):
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_both_generators(area_run) -> None:
    project, run = area_run
    assert run.data.metrics["glow.test_bits_per_dim"] > 0
    assert "realnvp.test_nll_nats" in run.data.metrics
    assert f"{AREA}_glow/bits_per_dim" in run.data.metrics, "per-iteration training metrics"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/toy_densities.png", "plots/samples.png", "plots/temperature.png"} <= artifacts
    models = {m.name: m for m in logged_models(project, run)}
    assert set(models) == {f"{AREA}_realnvp", f"{AREA}_glow"}
    generator = mlflow.pyfunc.load_model(models[f"{AREA}_glow"].model_uri)
    request = pd.DataFrame({"n": [3], "seed": [7]})
    images = generator.predict(request)
    assert images.shape == (3, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert (generator.predict(request) == images).all(), "the same seed gives the same images"
