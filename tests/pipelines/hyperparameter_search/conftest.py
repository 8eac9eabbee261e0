"""The session's `kedro run --pipeline=hyperparameter_search --env test`, shared by its e2e tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import mlflow_runs, run_kedro


@pytest.fixture(scope="session")
def hyperparameter_search_run(project_copy: Path) -> tuple[Path, Any]:
    """`kedro run --pipeline=hyperparameter_search --env test` in the project copy (six
    strategies, four trials each on 500 images) and its MLflow run."""
    run_kedro(project_copy, pipeline="hyperparameter_search")
    runs = mlflow_runs(project_copy, "hyperparameter_search")
    assert len(runs) == 1, "one MLflow run, named after the pipeline"
    return project_copy, runs[0]
