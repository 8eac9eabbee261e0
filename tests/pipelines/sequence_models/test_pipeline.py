"""End to end: `kedro run --pipeline=sequence_models --env test`, its catalog outputs (under
the test environment's data root) and its MLflow run, including the served model."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from dl_roadmap.pipelines.sequence_models import create_pipeline
from tests.conftest import logged_models, run_area

AREA = "sequence_models"
REPORTS = f"data/test/08_reporting/{AREA}"
MODELS = ["gru_none", "gru_additive", "gru_luong", "transformer"]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_pipeline_has_no_shared_stage():
    names = {node.name for node in create_pipeline().nodes}
    assert {"generate_dates", "train_models", "evaluate_models", "build_serving_model"} <= names
    assert not any("." in name for name in names), "no tune/compress/explain namespace (README says why)"


def test_outputs_are_in_the_catalog(area_run):
    project, _ = area_run
    reports = project / REPORTS
    summary = json.loads((reports / "ingest_summary.json").read_text())
    assert (summary["train_size"], summary["val_size"], summary["test_size"]) == (300, 60, 100)
    results = pd.read_csv(reports / "results.csv")
    assert sorted(results["model"]) == sorted(MODELS)
    assert results["test_exact_match"].between(0, 1).all() and (results["train_seconds"] > 0).all()
    by_length = pd.read_csv(reports / "by_length.csv")
    assert set(by_length["model"]) == set(MODELS)
    assert by_length.groupby("model")["count"].sum().eq(100).all(), "every test pair in one bin"
    histories = pd.read_csv(reports / "histories.csv")
    assert histories.groupby("model")["epoch"].count().to_dict() == {m: 2 for m in MODELS}
    assert "val_exact_match" in histories
    for plot in ("accuracy_by_length", "attention", "training_curves"):
        assert (reports / f"{plot}.png").read_bytes()[:8] == PNG
    predictions = pd.read_csv(project / "data/test/07_model_output" / AREA / "predictions.csv")
    assert len(predictions) == 100 and set(MODELS) <= set(predictions.columns)
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run):
    project, run = area_run
    assert run.info.status == "FINISHED"
    for model in MODELS:
        assert 0.0 <= run.data.metrics[f"{model}.test_exact_match"] <= 1.0
        assert f"{model}.longest_bin_exact_match" in run.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "gru_luong/val_exact_match")]
    assert sorted(steps) == [0, 1], "one value per epoch"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/accuracy_by_length.png", "plots/attention.png"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == ["sequence_models_date_normaliser"]
    served = mlflow.pyfunc.load_model(models[0].model_uri)
    out = served.predict(["3rd of March 2014", "03/03/14"])
    assert list(out.columns) == ["input", "date"] and list(out["input"]) == ["3rd of March 2014", "03/03/14"]
