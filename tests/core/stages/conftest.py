"""Fixtures for the shared-stage tests: the tiny digits task and one trained model."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.stages.tiny import CPU_TRAINER, TINY_CONFIG, TINY_TASK, digits_data


@pytest.fixture(scope="session")
def digits() -> dict[str, Any]:
    return digits_data()


@pytest.fixture(scope="session")
def trained_tiny(digits: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A TinyCNN trained for a few epochs on the digits (about 90% test accuracy)."""
    checkpoints = tmp_path_factory.mktemp("checkpoints")
    result = TINY_TASK.train(TINY_CONFIG, TINY_TASK.splits(digits), None, CPU_TRAINER, name="tiny",
                             fit_overrides={"checkpoint_dir": str(checkpoints)})
    return result.model
