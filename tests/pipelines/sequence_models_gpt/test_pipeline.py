"""End to end: `kedro run --pipeline=sequence_models_gpt --env test`, its catalog outputs
(under the test environment's data root) and its MLflow run, including the served model."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area

AREA = "sequence_models_gpt"
REPORTS = f"data/test/08_reporting/{AREA}"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run):
    project, _ = area_run
    reports = project / REPORTS
    summary = json.loads((reports / "ingest_summary.json").read_text())
    assert summary["plays"] == 38 and summary["characters"] == 60_000
    figures = json.loads((reports / "figures.json").read_text())
    assert figures["iterations"] == 30 and 0 < figures["val_loss"] < 5
    history = pd.read_csv(reports / "history.csv")
    assert history["val_loss"].notna().sum() == 3, "an estimate every 10 of 30 iterations"
    benchmark = pd.read_csv(reports / "cache_benchmark.csv")
    assert benchmark["same_output"].all() and list(benchmark["batch"]) == [1, 2]
    sweep = pd.read_csv(reports / "sampling_sweep.csv")
    assert len(sweep) == 4
    assert (reports / "samples.md").read_text().startswith("# Samples")
    for plot in ("loss_curves", "sampling"):
        assert (reports / f"{plot}.png").read_bytes()[:8] == PNG
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(area_run):
    project, run = area_run
    assert run.info.status == "FINISHED"
    assert run.data.metrics["cache_same_output"] == 1.0 and run.data.metrics["val_perplexity"] > 1
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    assert len(client.get_metric_history(run.info.run_id, "gpt/loss")) == 3, "a row every 10 iterations"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/loss_curves.png", "plots/sampling.png"} <= artifacts
    assert [a.path for a in client.list_artifacts(run.info.run_id, "samples")] == ["samples/samples.md"]
    models = logged_models(project, run)
    assert [m.name for m in models] == ["sequence_models_gpt_shakespeare"]
    served = mlflow.pyfunc.load_model(models[0].model_uri)
    out = served.predict(pd.DataFrame({"prompt": ["ROMEO:\n"], "max_new_tokens": [12]}))
    assert len(out.loc[0, "continuation"]) == 12
