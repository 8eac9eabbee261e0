"""architectures_recurrent: data, models, the race and the studies on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.pipelines.architectures_recurrent import data, nodes
from dl_roadmap.pipelines.architectures_recurrent.cells import copy_from_torch
from dl_roadmap.pipelines.architectures_recurrent.models import MNIST1D_MODELS, SequenceModel, mnist1d_model

TRAINER = {"accelerator": "cpu", "progress_bar": False, "num_threads": 1}


def test_mnist1d_is_generated_offline_with_the_packages_defaults() -> None:
    generated = data.mnist1d({})
    assert generated["x"].shape == (4000, 40) and generated["x_test"].shape == (1000, 40)
    assert set(np.unique(generated["y"])) == set(range(10))
    np.testing.assert_array_equal(generated["x"], data.mnist1d({"overrides": None})["x"])  # seeded


def test_mnist1d_refuses_an_unknown_argument() -> None:
    with pytest.raises(ValueError, match="mnist1d.overrides.nosuch"):
        data.mnist1d({"overrides": {"nosuch": 1}})


@pytest.mark.parametrize("name", MNIST1D_MODELS)
def test_mnist1d_models_map_sequences_to_class_scores(name: str) -> None:
    assert mnist1d_model(name, seed=0)(torch.randn(3, 40)).shape == (3, 10)


def test_paper_cnn_has_the_papers_feature_size() -> None:
    assert mnist1d_model("cnn", seed=0).linear.in_features == 125  # 25 channels x 5 steps


def test_our_sequence_model_computes_what_torchs_does() -> None:
    torch.manual_seed(0)
    reference = SequenceModel("lstm", 28, 16, 10, impl="torch")
    ours = SequenceModel("lstm", 28, 16, 10, impl="ours")
    copy_from_torch(ours.rnn, reference.rnn)
    ours.head.load_state_dict(reference.head.state_dict())
    x = torch.rand(4, 28, 28)
    torch.testing.assert_close(ours(x), reference(x), atol=1e-5, rtol=0)


def test_race_reports_both_times_and_their_ratio() -> None:
    table = nodes.race_cells({"batch_size": 4, "steps": 3, "input_size": 5, "hidden_size": 8, "repeats": 2,
                              "warmup": 1})
    assert table["cell"].tolist() == ["rnn", "lstm", "gru"]
    assert (table["ours_ms"] > 0).all() and (table["torch_ms"] > 0).all()
    np.testing.assert_allclose(table["ratio"], table["ours_ms"] / table["torch_ms"])


def test_pixel_rows_learn_a_separable_task(tmp_path) -> None:
    """Bright images against dark ones: readable from the rows by any cell."""
    rng = np.random.default_rng(0)
    splits = {}
    for split, n in (("train", 256), ("val", 64), ("test", 64)):
        labels = rng.integers(0, 2, n)
        splits[f"{split}_images"] = (rng.integers(0, 100, (n, 28, 28)) + 150 * labels[:, None, None]).astype(np.uint8)
        splits[f"{split}_labels"] = labels
    params = {"cells": ["gru"], "hidden_size": 8, "threads": 1,
              "fit": {"max_epochs": 3, "batch_size": 32, "seed": 0, "optimizer": {"name": "Adam", "lr": 0.01},
                      "scheduler": {"name": "none"}, "checkpoint_dir": str(tmp_path), "resume": False}}
    table, histories, model = nodes.pixel_rows_study(splits, params, TRAINER)
    assert table.loc[0, "test_acc"] > 0.9
    assert model(torch.zeros(2, 28, 28)).shape == (2, 10)
    assert list(histories) == ["gru"]
