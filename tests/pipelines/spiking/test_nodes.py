"""spiking: the LIF check and the nodes on a few random images."""

from __future__ import annotations

import numpy as np
import pytest

from dl_roadmap.pipelines.spiking import lif_check, nodes

TRAINER = {"accelerator": "cpu", "progress_bar": False}


def test_lif_check_reports_equal_traces_and_both_timings() -> None:
    table = lif_check.compare({"steps": 30, "batch": 4, "neurons": 8, "beta": 0.8, "threshold": 1.0, "repeats": 1})
    row = table.iloc[0]
    assert row["max_membrane_diff"] <= 1e-6 and row["max_spike_diff"] == 0
    assert row["spike_rate"] > 0.05, "the random currents make the neurons fire"
    assert row["ours_ms"] > 0 and row["snntorch_ms"] > 0


@pytest.fixture
def splits(tmp_path) -> dict[str, np.ndarray]:
    """Two classes: bright top halves against bright bottom halves."""
    rng = np.random.default_rng(0)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 2, n)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, :14] += 180 if label else 0
            images[i, 14:] += 0 if label else 180
        return images, labels
    data = {}
    for name, n in (("train", 256), ("val", 64), ("test", 64)):
        data[f"{name}_images"], data[f"{name}_labels"] = split(n)
    return data


def test_conv_snn_learns_and_is_measured(splits, tmp_path) -> None:
    config = {"model": {"conv": [4], "hidden": [], "steps": 3},
              "fit": {"max_epochs": 3, "batch_size": 32, "seed": 0, "optimizer": {"name": "Adam", "lr": 0.01},
                      "checkpoint_dir": str(tmp_path)}}
    model, history = nodes.train_snn(splits, config, TRAINER)
    assert len(history) == 3
    results, energy = nodes.evaluate_snn(model, splits, {"ops_samples": 16, "energy": {"add_pj": 0.9, "mult_pj": 3.7}})
    assert results.set_index("split").loc["test", "acc"] > 0.9
    assert energy["layer"].tolist() == ["0:conv2d", "1:linear", "total"]
    metrics = nodes.summary_metrics(results, energy, lif_check.compare(
        {"steps": 5, "batch": 2, "neurons": 3, "beta": 0.9, "threshold": 1.0, "repeats": 1}))
    assert metrics["test_acc"]["value"] > 0.9 and "energy_ratio" in metrics
