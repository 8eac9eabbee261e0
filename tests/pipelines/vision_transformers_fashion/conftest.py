"""The session's `kedro run --pipeline=vision_transformers_fashion --env test`, shared by its e2e tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import mlflow_runs, run_kedro


@pytest.fixture(scope="session")
def fashion_run(project_copy: Path) -> tuple[Path, Any]:
    """`kedro run --pipeline=vision_transformers_fashion --env test` in the project copy and its MLflow run."""
    run_kedro(project_copy, pipeline="vision_transformers_fashion")
    runs = mlflow_runs(project_copy, "vision_transformers_fashion")
    assert len(runs) == 1, "one MLflow run, named after the pipeline"
    return project_copy, runs[0]
