"""End to end: `kedro run --pipeline=vision_transformers_video --env test`, its catalog outputs
(under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import json

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient
from PIL import Image

from tests.conftest import logged_models, run_area
from dl_roadmap.core.schema import ParameterError, check_parameters
from tests.parameters import assert_named_before_the_run, parameters

AREA = "vision_transformers_video"
REPORTS = f"data/test/08_reporting/{AREA}"


@pytest.fixture(scope="module")
def video_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(video_run) -> None:
    project, _ = video_run
    reports = project / REPORTS
    summary = json.loads((reports / "clips_summary.json").read_text())
    assert (summary["train_clips"], summary["test_clips"], summary["frames"]) == (96, 32, 8)
    results = pd.read_csv(reports / "results.csv").set_index("model")
    assert list(results.index) == ["transformer", "cnn"]
    assert (results["frames_seen"] == 4).all(), "8 frames, every second one"
    assert results["test_acc"].between(0, 1).all() and (results["epochs"] == 2).all()
    gif = Image.open(reports / "test_clips.gif")
    assert gif.n_frames == 8, "the animation shows every frame"
    for plot in ("training_curves", "test_clips"):
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(video_run) -> None:
    project, run = video_run
    assert {"transformer_test_acc", "cnn_test_acc", "transformer/val_acc"} <= set(run.data.metrics)
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/test_clips.gif", "plots/training_curves.png", "plots/test_clips.png"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    assert model(torch.zeros(2, 4, 32, 32)).shape == (2, 2), "clips in, approaching/receding logits out"


@pytest.mark.parametrize(("path", "value", "key", "problem"), [
    ("clip.canvas", 28, "clip.canvas", "greater than 28"),
    ("fit.max_epochs", 0, "fit.max_epochs", "greater than 0"),
    ("transformer.heads", 5, "transformer", "multiple of heads"),
])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem) -> None:
    assert_named_before_the_run(AREA, path, value, key, problem)


def test_patches_that_do_not_tile_the_frame_are_refused_before_the_run() -> None:
    params = parameters()
    params[AREA]["transformer"]["patch_size"] = 24
    with pytest.raises(ParameterError, match=r"transformer.patch_size \(24\) must divide clip.canvas \(64\)"):
        check_parameters(params, [AREA])
