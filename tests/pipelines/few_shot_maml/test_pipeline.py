"""End to end: `kedro run --pipeline=few_shot_maml --env test`, its catalog outputs (under
the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "few_shot_maml"
PLOTS = ("accuracy", "inner_loop", "training")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    results = pd.read_csv(reports / "results.csv")
    assert set(zip(results["method"], results["way"], results["shot"])) == {
        (m, w, s) for m in ("maml", "first_order_maml") for w in (5, 20) for s in (1, 5)}
    assert results["accuracy"].between(0, 100).all() and (results["episodes"] == 3).all()
    assert results.set_index(["method", "way", "shot"]).loc[("maml", 5, 1), "published"] == 98.7
    curve = pd.read_csv(reports / "inner_loop.csv")
    assert sorted(set(curve["step"])) == [0, 1, 2], "conf/test: 2 inner steps at test time, and step 0"
    start = curve[curve["step"] == 0]
    assert ((start["accuracy"] - 100 / start["way"]).abs() < 1e-6).all(), "a zero head guesses class 0: chance"
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["maml_5way_1shot_acc"] <= 100.0
    assert "few_shot_maml/maml/loss" in run.data.metrics and "few_shot_maml/first_order_maml/loss" in run.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == ["few_shot_maml_body"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 8), "images in, features (conf/test: 8 channels) out"
