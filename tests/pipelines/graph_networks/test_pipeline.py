"""End to end: `kedro run --pipeline=graph_networks --env test`, its catalog outputs (under
the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "graph_networks"
PLOTS = ("race", "karate", "results", "depth", "embeddings", "attention")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert set(zip(results["dataset"], results["method"])) == {
        (d, m) for d in ("cora", "citeseer") for m in ("label_propagation", "gcn", "gat", "mlp")}
    assert (results.set_index(["dataset", "method"]).loc[("cora", "gcn"), "published"] == 81.5)
    assert (results.loc[results["method"] != "label_propagation", "seeds"] == 2).all()  # conf/test
    runs = pd.read_csv(reports / "runs.csv")
    assert runs["test_acc"].between(0, 1).all()
    race = pd.read_csv(reports / "race.csv")
    assert race["layer"].tolist() == ["gcn", "gat"] and (race["speed_ratio"] > 0).all()
    depth = pd.read_csv(reports / "depth.csv")
    assert sorted(set(zip(depth["depth"], depth["residual"]))) == [(2, False), (2, True), (4, False), (4, True)]
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert (reports / "tune" / "trials.csv").is_file()
    faithfulness = pd.read_csv(reports / "explain" / "faithfulness.csv")
    assert set(faithfulness["method"]) == {"shap", "gradient_x_input", "random"}
    cuts = pd.read_csv(reports / "neighbour_faithfulness.csv")
    assert {"p_intact", "p_top_cut", "p_random_cut", "drop_top", "drop_random"} <= set(cuts.columns)
    assert (cuts["cut"] <= cuts["neighbours"]).all()
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["cora_gcn_test_acc_mean"] <= 100.0
    assert run.data.metrics["race_gat_speed_ratio"] > 0
    assert "cora/gcn/seed0/val_acc" in run.data.metrics, "per-epoch metrics of the training"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.rand(2708, 1433)).shape == (2708, 7), "Cora's node features in, class logits per node out"
