"""MLflow helpers that work in the Kedro process and in spawned training workers.

kedro-mlflow opens one MLflow run per ``kedro run``; nodes log into it. Training workers
started by ``ddp_spawn`` are fresh processes with no active run, so they log through a
client bound to the run id and tracking URI captured in the parent.
"""

from __future__ import annotations

import math
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import mlflow


@dataclass(frozen=True)
class RunHandle:
    """Where to log: a tracking URI and a run id (picklable, unlike an active run)."""

    tracking_uri: str
    run_id: str

    @classmethod
    def current(cls) -> RunHandle | None:
        """The active MLflow run of this process, or None outside a tracked run."""
        run = mlflow.active_run()
        return cls(mlflow.get_tracking_uri(), run.info.run_id) if run else None

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        from mlflow.entities import Metric
        from mlflow.tracking import MlflowClient
        from mlflow.utils.time import get_current_time_millis

        now = get_current_time_millis()
        batch = [
            Metric(key, float(value), now, step or 0)
            for key, value in metrics.items()
            if value is not None and math.isfinite(float(value))
        ]
        if batch:
            MlflowClient(self.tracking_uri).log_batch(self.run_id, metrics=batch)


def metrics_for_mlflow(values: dict[str, Any]) -> dict[str, dict[str, float]]:
    """``{name: value}`` in the form kedro-mlflow's MlflowMetricsHistoryDataset saves
    (``{name: {"value": v, "step": 0}}``), leaving out values that are not finite numbers
    (a figure that does not apply, such as dead units of a non-ReLU net, is NaN)."""
    return {name: {"value": float(value), "step": 0} for name, value in values.items() if math.isfinite(float(value))}


def log_metrics(metrics: dict[str, Any], step: int | None = None) -> None:
    """Log finite numeric metrics to the active run; a no-op outside a tracked run."""
    handle = RunHandle.current()
    if handle is not None:
        handle.log_metrics(metrics, step)


def log_figure(figure: Any, artifact_file: str) -> None:
    """Log a matplotlib figure to the active run (no-op outside a tracked run)."""
    if mlflow.active_run() is not None:
        mlflow.log_figure(figure, artifact_file)


def log_text_artifact(text: str, artifact_file: str) -> None:
    """Log a small text/markdown/csv artifact to the active run."""
    if mlflow.active_run() is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_file).name
        path.write_text(text)
        folder = str(Path(artifact_file).parent)
        mlflow.log_artifact(str(path), None if folder == "." else folder)


@contextmanager
def nested_run(run_name: str, tags: dict[str, str] | None = None) -> Iterator[Any]:
    """A child MLflow run of the active run (one per Optuna trial, say); yields None and
    logs nothing outside a tracked run. An exception ends the child run as FAILED."""
    if mlflow.active_run() is None:
        yield None
        return
    with mlflow.start_run(run_name=run_name, nested=True, tags=tags) as run:
        yield run
