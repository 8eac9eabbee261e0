"""Tests for dl_roadmap.core.tracking against a throw-away sqlite MLflow store."""

from __future__ import annotations

import math
import pickle

import mlflow
import pytest
from matplotlib.figure import Figure
from mlflow.tracking import MlflowClient

from dl_roadmap.core.tracking import RunHandle, log_figure, log_metrics, log_text_artifact


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One sqlite store for the module (creating one takes seconds); yields (uri, experiment id).
    Artifacts go to the temporary folder, never to the project."""
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder}/mlflow.db"
    experiment_id = MlflowClient(uri).create_experiment(
        "tracking-tests", artifact_location=(folder / "artifacts").as_uri()
    )
    return uri, experiment_id


@pytest.fixture
def tracking(store, monkeypatch):
    """Point MLflow at the test store for one test; restore the global URI afterwards."""
    from mlflow.tracking._tracking_service import utils as tracking_utils

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # restored by monkeypatch
    previous = tracking_utils._tracking_uri
    mlflow.set_tracking_uri(store[0])
    yield store
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


def metric_history(uri: str, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in MlflowClient(uri).get_metric_history(run_id, key)]


def test_no_run_handle_outside_an_active_run(tracking):
    """RunHandle.current() is None when no MLflow run is active."""
    assert mlflow.active_run() is None
    assert RunHandle.current() is None


def test_run_handle_captures_uri_and_run_id_and_pickles(tracking):
    """Inside a run the handle names that run and store, and survives pickling (ddp_spawn)."""
    uri, experiment_id = tracking
    with mlflow.start_run(experiment_id=experiment_id) as run:
        handle = RunHandle.current()
    assert handle == RunHandle(uri, run.info.run_id)
    assert pickle.loads(pickle.dumps(handle)) == handle


def test_log_metrics_records_values_at_their_step(tracking):
    """log_metrics inside a run stores each value at the given step."""
    uri, experiment_id = tracking
    with mlflow.start_run(experiment_id=experiment_id) as run:
        log_metrics({"clf/val_loss": 0.5, "clf/val_acc": 0.75}, step=0)
        log_metrics({"clf/val_loss": 0.25}, step=1)
    assert metric_history(uri, run.info.run_id, "clf/val_loss") == [(0, 0.5), (1, 0.25)]
    assert metric_history(uri, run.info.run_id, "clf/val_acc") == [(0, 0.75)]


def test_log_metrics_skips_non_finite_and_missing_values(tracking):
    """NaN, infinities and None are dropped; the finite values in the same call are kept."""
    uri, experiment_id = tracking
    with mlflow.start_run(experiment_id=experiment_id) as run:
        log_metrics({"ok": 1.5, "nan": math.nan, "inf": math.inf, "ninf": -math.inf, "none": None}, step=2)
        log_metrics({"only_nan": float("nan")})  # nothing finite: nothing logged, no error
    assert MlflowClient(uri).get_run(run.info.run_id).data.metrics == {"ok": 1.5}
    assert metric_history(uri, run.info.run_id, "ok") == [(2, 1.5)]


def test_run_handle_logs_without_an_active_run(tracking):
    """A captured handle logs to its run from anywhere, as spawned training workers do."""
    uri, experiment_id = tracking
    with mlflow.start_run(experiment_id=experiment_id) as run:
        handle = RunHandle.current()
    assert mlflow.active_run() is None
    handle.log_metrics({"worker/loss": 3.0}, step=4)
    handle.log_metrics({"worker/loss": 2.0})  # no step means step 0
    assert sorted(metric_history(uri, run.info.run_id, "worker/loss")) == [(0, 2.0), (4, 3.0)]


def test_logging_outside_a_run_is_a_no_op(tracking):
    """Outside a tracked run nothing is logged and no run is created implicitly."""
    client = MlflowClient(tracking[0])

    def all_runs() -> int:
        return len(client.search_runs([e.experiment_id for e in client.search_experiments()]))

    before = all_runs()
    log_metrics({"loss": 1.0}, step=0)
    log_figure(Figure(), "figure.png")
    log_text_artifact("text", "notes.md")
    assert mlflow.active_run() is None
    assert all_runs() == before


def test_artifacts_are_logged_to_the_active_run(tracking):
    """log_text_artifact and log_figure put files (in sub-folders) into the run's artifacts."""
    uri, experiment_id = tracking
    with mlflow.start_run(experiment_id=experiment_id) as run:
        log_text_artifact("# report\n", "reports/summary.md")
        log_text_artifact("a,b\n1,2\n", "table.csv")
        figure = Figure()
        figure.subplots().plot([0, 1], [1, 0])
        log_figure(figure, "plots/line.png")
    client = MlflowClient(uri)
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"reports", "table.csv", "plots"}
    assert [a.path for a in client.list_artifacts(run.info.run_id, "reports")] == ["reports/summary.md"]
    assert [a.path for a in client.list_artifacts(run.info.run_id, "plots")] == ["plots/line.png"]
    text = mlflow.artifacts.load_text(f"{run.info.artifact_uri}/reports/summary.md")
    assert text == "# report\n"


def test_metrics_for_mlflow_is_the_metrics_history_form_without_non_finite_values():
    from dl_roadmap.core.tracking import metrics_for_mlflow

    assert metrics_for_mlflow({"acc": 0.9, "epochs": 3, "dead": float("nan"), "inf": float("inf")}) == {
        "acc": {"value": 0.9, "step": 0}, "epochs": {"value": 3.0, "step": 0}}
