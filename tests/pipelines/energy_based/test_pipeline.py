"""End to end: `kedro run --pipeline=energy_based --env test`, its catalog outputs (under
the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "energy_based"
PLOTS = ("likelihood", "filters", "gibbs_chains", "inpainting", "hopfield", "dbn", "yardstick")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    likelihoods = pd.read_csv(reports / "likelihoods.csv")
    assert set(likelihoods["method"]) == {"cd1", "cd3", "pcd", "sklearn_pcd"}
    assert (likelihoods["test_ll"] < 0).all() and (likelihoods["hidden"] == 32).all()  # conf/test
    assert likelihoods.set_index("method").loc["cd1", "published_test_ll_500h"] == -125.53
    check = pd.read_csv(reports / "sklearn_check.csv")
    assert check["max_free_energy_diff"].iloc[0] < 1e-9 and check["max_pseudo_ll_diff"].iloc[0] < 1e-8
    exact = pd.read_csv(reports / "exact_check.csv")
    assert exact["hidden"].iloc[0] == 8 and exact["exact_log_z"].iloc[0] > 0
    capacity = pd.read_csv(reports / "hopfield_capacity.csv")
    assert capacity["recall_rate"].between(0, 1).all() and len(capacity) == 3
    energy = pd.read_csv(reports / "hopfield_energy.csv")
    assert (energy.drop(columns="update").diff().dropna() <= 1e-9).all().all(), "energy never increases"
    dbn = pd.read_csv(reports / "dbn_results.csv")
    assert set(dbn["start"]) == {"dbn", "scratch"}
    yardstick = pd.read_csv(reports / "yardstick.csv")
    assert yardstick["model"].iloc[0].startswith("RBM") and yardstick["nll_nats"].iloc[0] > 0
    assert {"reference: real images", "reference: shuffled pixels"} <= set(yardstick["model"])
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert (reports / "explain" / "faithfulness.csv").is_file()
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_generator(area_run) -> None:
    project, run = area_run
    assert run.data.metrics["test_nll"] > 0, "the generator RBM's AIS test NLL"
    assert "cd1/pseudo_log_likelihood" in run.data.metrics, "per-epoch metrics of the training"
    assert "hopfield_critical_load" in run.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_rbm"]
    generator = mlflow.pyfunc.load_model(models[0].model_uri)
    images = generator.predict(pd.DataFrame({"n": [2, 3], "seed": [0, 1]}))
    assert images.shape == (5, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
