"""Fixtures of small MNIST-format data for the image library's tests."""

from __future__ import annotations

import numpy as np
import pytest

from tests.image.fakes import fake_mnist, striped_splits


@pytest.fixture
def raw() -> dict:
    return fake_mnist()


@pytest.fixture
def striped() -> dict[str, np.ndarray]:
    return striped_splits()
