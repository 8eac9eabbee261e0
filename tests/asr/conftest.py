"""Fixtures shared by the ASR tests."""

from __future__ import annotations

import importlib
from typing import Any

import pytest


@pytest.fixture(scope="session")
def nemo_asr() -> Any:
    """NeMo's ASR collection, imported once (it takes several seconds). NeMo is a dependency
    of the project: a failing import is a failure, not a reason to skip."""
    return importlib.import_module("nemo.collections.asr")
