"""The session's `kedro run --pipeline=activations --env test`, shared by its e2e tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import mlflow_runs, run_kedro


@pytest.fixture(scope="session")
def activations_run(project_copy: Path) -> tuple[Path, Any]:
    """`kedro run --pipeline=activations --env test` in the project copy (six variants on
    tiny data, three Optuna trials, SHAP/LIME on ten images) and its MLflow run."""
    run_kedro(project_copy, pipeline="activations")
    runs = mlflow_runs(project_copy, "activations")
    assert len(runs) == 1, "one MLflow run, named after the pipeline"
    return project_copy, runs[0]
