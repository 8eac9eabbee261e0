"""spiking_coding: the coding study and its figures on random images."""

from __future__ import annotations

import numpy as np

from dl_roadmap.pipelines.spiking_coding import nodes

TRAINER = {"accelerator": "cpu", "progress_bar": False}


def fake_splits(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    data = {}
    for name, n in (("train", 64), ("val", 32), ("test", 32)):
        data[f"{name}_images"] = rng.integers(0, 255, (n, 28, 28)).astype(np.uint8)
        data[f"{name}_labels"] = rng.integers(0, 10, n)
    return data


def test_coding_study_trains_one_snn_per_dataset_and_coding(tmp_path) -> None:
    data = {"mnist": fake_splits(0), "fashion_mnist": fake_splits(1)}
    params = {"datasets": ["mnist", "fashion_mnist"], "codings": ["rate", "latency"],
              "train": {"model": {"hidden": [8], "steps": 3},
                        "fit": {"max_epochs": 1, "batch_size": 32, "seed": 0, "checkpoint_dir": str(tmp_path)}}}
    results, histories = nodes.coding_study(data, params, TRAINER)
    assert len(results) == 4 and set(histories) == {"mnist/rate", "mnist/latency",
                                                   "fashion_mnist/rate", "fashion_mnist/latency"}
    spikes = results.set_index(["dataset", "coding"])["input_spikes_per_image"]
    # random pixels: mean intensity ~0.5 -> rate ~0.5 x 784 x 3 spikes; latency <= 784
    assert 1000 < spikes["mnist", "rate"] < 1400 and spikes["mnist", "latency"] <= 784
    assert nodes.accuracy_figure(results).axes and nodes.coding_figure(data, params).axes
    assert set(nodes.summary_metrics(results)) == {f"{d}_{c}_test_acc" for d in ("mnist", "fashion_mnist")
                                                   for c in ("rate", "latency")}
