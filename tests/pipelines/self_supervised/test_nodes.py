"""Nodes of the self-supervised pipelines on a few synthetic images: collecting encoders,
frozen evaluation, the label-efficiency table and its refusal of a missing encoder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_roadmap.image.ssl_train import build_encoder
from dl_roadmap.pipelines.self_supervised import nodes
from dl_roadmap.pipelines.self_supervised_label_efficiency import nodes as label_nodes

SHAPE = {"latent_dim": 8, "channels": [4, 8]}


@pytest.fixture
def splits() -> dict[str, np.ndarray]:
    """Two classes any probe can tell apart: the left half bright, or the right half."""
    rng = np.random.default_rng(0)
    data = {}
    for name, n in (("train", 120), ("test", 60)):
        labels = rng.integers(0, 2, n)
        images = rng.integers(0, 60, (n, 28, 28))
        images[labels == 0, :, :14] += 180
        images[labels == 1, :, 14:] += 180
        data[f"{name}_images"] = images.astype(np.uint8)
        data[f"{name}_labels"] = labels
    return data


def test_collect_encoders_keys_each_by_its_method_and_adds_a_random_one() -> None:
    shared = {"encoder": SHAPE, "fit": {"seed": 0}}
    first, second = build_encoder(SHAPE, 1), build_encoder(SHAPE, 2)
    history = lambda name: pd.DataFrame({"epoch": [0], "train_loss": [1.0], "method": [name]})  # noqa: E731
    encoders, table = nodes.collect_encoders(shared, first, history("simclr"), second, history("byol"))
    assert list(encoders) == ["random", "simclr", "byol"] and encoders["byol"] is second
    assert list(table["method"]) == ["simclr", "byol"]


def test_frozen_evaluation_scores_raw_pixels_and_every_encoder(splits) -> None:
    encoders = {"random": build_encoder(SHAPE, 0).eval()}
    params = {"probe_train": 100, "probe_c": 1.0, "probe_max_iter": 100, "knn_k": 3, "geometry_images": 20, "seed": 0}
    results, metrics = nodes.frozen_evaluation(encoders, splits, params, {})
    assert list(results["representation"]) == ["raw pixels", "random"]
    assert results.set_index("representation").loc["raw pixels", "linear_probe"] == 1.0, "a separable task"
    assert metrics["frozen.raw_pixels.knn"]["value"] == pytest.approx(1.0)
    assert results["uniformity"].le(0).all()


def test_label_efficiency_table_gains_are_against_scratch() -> None:
    runs = pd.DataFrame({"labels_per_class": ["10"] * 4, "recipe": ["naive"] * 4,
                         "encoder": ["simclr", "simclr", "scratch", "scratch"], "seed": [0, 1, 0, 1],
                         "test_accuracy": [0.8, 0.7, 0.6, 0.6]})
    table, metrics = label_nodes.summary_table(runs)
    simclr = table.set_index("encoder").loc["simclr"]
    assert simclr["mean"] == pytest.approx(75.0) and simclr["std"] == pytest.approx(5.0) and simclr["seeds"] == 2
    assert simclr["gain_over_scratch"] == pytest.approx(15.0)
    assert metrics["10_per_class.naive.simclr"]["value"] == pytest.approx(0.75)
    assert label_nodes.curves_figure(table) is not None


def test_label_efficiency_names_a_missing_encoder(splits) -> None:
    params = {"encoders": ["moco", "scratch"], "budgets": [], "recipes": {}, "finetune": {}}
    with pytest.raises(ValueError, match=r"\['moco'\] not in the self_supervised run"):
        label_nodes.sweep({"simclr": build_encoder(SHAPE, 0)}, splits, params, SHAPE, {})
