"""The compress stage as a Kedro modular pipeline: namespacing, wiring, and one real run
through the project's catalog patterns into files and MLflow."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
import torch
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog
from kedro.runner import SequentialRunner
from mlflow.tracking import MlflowClient

from dl_roadmap.core.stages.compress import VARIANTS, compress_pipeline
from dl_roadmap.core.stages.compress.quantize import ScriptedModel
from tests.core.stages.tiny import CPU_TRAINER, TINY_CONFIG, TINY_TASK

PROJECT_ROOT = Path(__file__).resolve().parents[3]
NODE_NAMES = {
    "measure_fp32", "quantize_dynamic_int8", "quantize_static_int8", "train_qat_int8", "prune_unstructured",
    "prune_structured", "train_student", "distill_student", "summarize",
}


def _stage(**kwargs):
    arguments = {"area": "digits", "model": "classifier", "config": "params:classifier", "data": "splits", **kwargs}
    return compress_pipeline(TINY_TASK, **arguments)


def test_nodes_params_and_outputs_live_under_the_areas_namespace():
    stage = _stage(base="encoder")
    nodes = {node.name: node for node in stage.nodes}
    assert set(nodes) == {f"digits.compress.{name}" for name in NODE_NAMES}
    assert {node.namespace for node in stage.nodes} == {"digits.compress"}
    qat = nodes["digits.compress.train_qat_int8"]
    assert set(qat.inputs) == {
        "classifier", "params:classifier", "splits", "params:trainer", "params:digits.compress.finetune",
        "params:digits.compress.qat", "params:digits.compress.latency",
    }
    assert qat.outputs == ["digits.compress.qat_int8_model", "digits.compress.qat_int8_row"]
    assert "encoder" in nodes["digits.compress.train_student"].inputs
    assert "classifier" not in nodes["digits.compress.train_student"].inputs, "the plain student needs no teacher"
    assert {"encoder", "classifier"} <= set(nodes["digits.compress.distill_student"].inputs)
    assert "encoder" not in nodes["digits.compress.prune_structured"].inputs
    assert stage.inputs() == {
        "classifier", "encoder", "splits", "params:classifier", "params:trainer",
        *(f"params:digits.compress.{block}" for block in (
            "finetune", "calibration", "qat", "unstructured_pruning", "structured_pruning", "distillation", "latency",
        )),
    }
    assert stage.outputs() == {
        "digits.compress.results", "digits.compress.metrics", "digits.compress.tradeoffs_plot",
        *(f"digits.compress.{variant}_model" for variant in VARIANTS),
    }
    assert nodes["digits.compress.summarize"].inputs == [
        "digits.compress.fp32_row", *(f"digits.compress.{variant}_row" for variant in VARIANTS),
    ]


def test_a_subset_of_variants_and_a_config_from_the_catalog():
    stage = _stage(config="digits.tune.best_config", variants=["static_int8", "distilled"])
    assert {node.name.removeprefix("digits.compress.") for node in stage.nodes} == {
        "measure_fp32", "quantize_static_int8", "distill_student", "summarize",
    }
    assert "digits.tune.best_config" in stage.inputs()
    # Nothing trains and nothing builds a student: neither the trainer block nor base is wired.
    quantize_only = _stage(base="encoder", variants=["dynamic_int8"])
    assert quantize_only.inputs() == {"classifier", "params:classifier", "splits", "params:digits.compress.latency"}
    with pytest.raises(ValueError, match=r"unknown variant\(s\) \['int4'\]"):
        _stage(variants=["static_int8", "int4"])


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    """MLflow pointed at a throw-away sqlite store; yields (uri, experiment id)."""
    from mlflow.tracking._tracking_service import utils as tracking_utils

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    previous = tracking_utils._tracking_uri
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    experiment_id = MlflowClient(uri).create_experiment("compress", artifact_location=(tmp_path / "artifacts").as_uri())
    yield uri, experiment_id
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


def test_a_run_saves_loadable_models_the_table_and_the_plot_and_logs_them(trained_tiny, digits, tracking, tmp_path,
                                                                           monkeypatch):
    uri, experiment_id = tracking
    monkeypatch.chdir(tmp_path)  # the catalog's relative data/ paths land here
    catalog_conf = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="local")["catalog"]
    catalog = DataCatalog.from_config(catalog_conf)
    raw = {
        "tiny_model": trained_tiny, "digits_data": digits, "params:tiny_config": TINY_CONFIG,
        "params:trainer": CPU_TRAINER,
        "params:tiny.compress.calibration": {"size": 128},
        "params:tiny.compress.latency": {"batch_sizes": [1, 8], "repeats": 2, "warmup": 1, "threads": 1},
    }
    for name, value in raw.items():
        catalog[name] = value
    stage = compress_pipeline(TINY_TASK, area="tiny", model="tiny_model", config="params:tiny_config",
                              data="digits_data", variants=["dynamic_int8", "static_int8"])
    with mlflow.start_run(experiment_id=experiment_id) as run:
        SequentialRunner().run(stage, catalog)

    reports = tmp_path / "data/08_reporting/tiny/compress"
    results = pd.read_csv(reports / "results.csv")
    assert list(results["variant"]) == ["fp32", "dynamic_int8", "static_int8"]
    assert (reports / "tradeoffs.png").stat().st_size > 0
    rows = {path.name for path in (reports / "rows").iterdir()}
    assert rows == {"fp32.json", "dynamic_int8.json", "static_int8.json"}
    images = digits["test_x"][:4]
    for variant in ("dynamic_int8", "static_int8"):
        [path] = (tmp_path / "data/06_models/tiny/compress").glob(f"{variant}.pt/*/{variant}.pt")  # versioned
        model = torch.load(path, weights_only=False)
        assert model(torch.from_numpy(images)).shape == (4, 10)
        size = results.set_index("variant").loc[variant, "size_bytes"]
        assert abs(path.stat().st_size - size) < 256, "the row's size is the catalog file's, to the archive name"
    assert isinstance(model, ScriptedModel)

    client = MlflowClient(uri)
    metrics = client.get_run(run.info.run_id).data.metrics
    assert metrics["compress.static_int8.size_ratio"] == pytest.approx(results.loc[2, "size_ratio"])
    assert "compress.fp32.latency_b8_ms" in metrics and "compress.dynamic_int8.speedup_b1" in metrics
    logged = {artifact.path for artifact in client.list_artifacts(run.info.run_id, "compress")}
    assert {"compress/results.csv", "compress/tradeoffs.png", "compress/models"} <= logged
    models = {artifact.path for artifact in client.list_artifacts(run.info.run_id, "compress/models")}
    assert models == {"compress/models/dynamic_int8.pt", "compress/models/static_int8.pt"}
