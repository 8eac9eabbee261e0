"""mnist_label_efficiency: unit checks of its nodes and an end-to-end --env test run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_roadmap.image.data import balanced_indices
from dl_roadmap.pipelines.mnist_label_efficiency.nodes import label_efficiency_table
from tests.conftest import mlflow_runs, run_kedro


def test_balanced_indices_take_n_of_each_digit():
    labels = np.arange(1000) % 10
    picked = balanced_indices(labels, 7, seed=0, unit="digit")
    assert np.bincount(labels[picked]).tolist() == [7] * 10
    np.testing.assert_array_equal(picked, balanced_indices(labels, 7, seed=0, unit="digit"))
    assert len(balanced_indices(labels, "all", seed=0)) == 1000
    with pytest.raises(ValueError, match="digit 0 has only 100"):
        balanced_indices(labels, 101, seed=0, unit="digit")


def test_table_shows_the_gain_of_pretraining():
    results = pd.DataFrame({
        "labels_per_class": [10, 10], "recipe": ["r", "r"], "encoder": ["AE-pretrained", "from scratch"],
        "test_accuracy": [0.8, 0.7],
    })
    table, metrics = label_efficiency_table(results)
    assert table.loc[0, "gain_points"] == pytest.approx(10.0)
    assert metrics["10_per_class.r.pretrained_accuracy"] == {"value": 0.8, "step": 0}


def test_end_to_end_after_the_autoencoder_run(mnist_autoencoder_run):
    project, _ = mnist_autoencoder_run
    run_kedro(project, pipeline="mnist_label_efficiency")
    table = pd.read_csv(project / "data/test/08_reporting/mnist_label_efficiency/label_efficiency.csv")
    assert table["labels_per_class"].astype(str).tolist() == ["10", "10", "all", "all"]
    assert set(table["recipe"]) == {"naive", "augmented"}
    assert table[["AE-pretrained", "from scratch"]].stack().between(0.05, 1.0).all()
    assert (project / "data/test/08_reporting/mnist_label_efficiency/label_efficiency.png").exists()
    (run,) = mlflow_runs(project, "mnist_label_efficiency")
    assert "label_efficiency.10_per_class.augmented.pretrained_accuracy" in run.data.metrics
