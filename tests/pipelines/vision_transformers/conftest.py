"""The session's `kedro run --pipeline=vision_transformers --env test`, shared by its e2e tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_area


@pytest.fixture(scope="session")
def vision_transformers_run(project_copy: Path) -> tuple[Path, Any]:
    """`kedro run --pipeline=vision_transformers --env test` in the project copy and its MLflow run."""
    return run_area(project_copy, "vision_transformers")
