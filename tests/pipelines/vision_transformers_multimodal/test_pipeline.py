"""End to end: `kedro run --pipeline=vision_transformers_multimodal --env test`, its catalog
outputs (under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import json

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from tests.conftest import logged_models, run_area
from tests.parameters import assert_named_before_the_run

AREA = "vision_transformers_multimodal"
REPORTS = f"data/test/08_reporting/{AREA}"
FIGURES = ["image_to_text_recall_at_1", "image_to_text_recall_at_5", "text_to_image_recall_at_1",
           "text_to_image_recall_at_5", "zero_shot_left_digit_acc", "linear_probe_left_digit_acc",
           "image_to_text_swapped_order", "image_to_text_same_two_digits"]


@pytest.fixture(scope="module")
def multimodal_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(multimodal_run) -> None:
    project, _ = multimodal_run
    reports = project / REPORTS
    summary = json.loads((reports / "pairs_summary.json").read_text())
    assert (summary["train_pairs"], summary["test_pairs"]) == (512, 300)
    assert all(" of a " in text for text in summary["example_captions"])
    results = pd.read_csv(reports / "results.csv").set_index("metric")
    assert set(FIGURES) <= set(results.index)
    assert results.loc[FIGURES, "value"].between(0, 1).all()
    assert results.loc["image_to_text_recall_at_5", "value"] >= results.loc["image_to_text_recall_at_1", "value"]
    assert 0 < results.loc["temperature", "value"] < 1
    assert len(pd.read_csv(reports / "history.csv")) == 2
    for plot in ("training_curves", "retrieval"):
        assert (reports / f"{plot}.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_model(multimodal_run) -> None:
    project, run = multimodal_run
    assert set(FIGURES) <= set(run.data.metrics) and "clip/val_loss" in run.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/training_curves.png", "plots/retrieval.png"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_model"]
    model = mlflow.pytorch.load_model(models[0].model_uri)
    embeddings = model(torch.zeros(2, 1, 28, 56))
    assert embeddings.shape == (2, 16) and torch.allclose(embeddings.norm(dim=-1), torch.ones(2))


@pytest.mark.parametrize(("path", "value", "key", "problem"), [
    ("zero_shot_template", "a {cls} above a {other}", "zero_shot_template", "unknown words"),
    ("zero_shot_template", "a {colour} left of a {other}", "zero_shot_template", "only the fields"),
    ("pairs.test", 50, "pairs.test", "greater than or equal to 100"),
    ("text.heads", 5, "text", "multiple of heads"),
])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem) -> None:
    assert_named_before_the_run(AREA, path, value, key, problem)
