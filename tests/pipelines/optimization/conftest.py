"""The session's `kedro run --pipeline=optimization --env test`, shared by its e2e tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import mlflow_runs, run_kedro


@pytest.fixture(scope="session")
def optimization_run(project_copy: Path) -> tuple[Path, Any]:
    """`kedro run --pipeline=optimization --env test` in the project copy (seven optimizers,
    a small sweep, four deep nets, three RNNs, two Optuna trials, all on tiny data) and
    its MLflow run."""
    run_kedro(project_copy, pipeline="optimization")
    runs = mlflow_runs(project_copy, "optimization")
    assert len(runs) == 1, "one MLflow run, named after the pipeline"
    return project_copy, runs[0]
