"""End to end: `kedro run --pipeline=deep_rl_minatar --env test`, its catalog outputs and its
MLflow run, and the logged policy loaded back."""

from __future__ import annotations

import json

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image

from tests.conftest import logged_models, run_area

AREA = "deep_rl_minatar"


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["frames"] == 2000 and summary["paper_frames"] == 5_000_000
    curve = pd.read_csv(reports / "curve.csv")
    assert curve["frames"].is_monotonic_increasing and curve["frames"].iloc[-1] == 2000
    assert (reports / "learning_curve.png").stat().st_size > 0
    gif = Image.open(reports / "breakout.gif")
    assert gif.size == (160, 160) and gif.n_frames >= 2, "the 10x10 grid, 16 pixels a cell"
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_policy(area_run) -> None:
    project, run = area_run
    assert run.data.metrics["frames"] == 2000
    assert "minatar_dqn/loss" in run.data.metrics, "per-iteration metrics"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/learning_curve.png", "plots/breakout.gif"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_policy"]
    actions = mlflow.pyfunc.load_model(models[0].model_uri).predict(np.zeros((2, 400), dtype=np.float32))
    assert actions.shape == (2,) and actions.dtype == np.int64 and ((0 <= actions) & (actions < 6)).all()
