"""efficient_architectures: the nodes on a few random images, and the quantization maths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from dl_roadmap.image.efficient import build_model
from dl_roadmap.pipelines.efficient_architectures import figures, nodes
from dl_roadmap.pipelines.efficient_architectures.quantization import fake_int8, sqnr_db, weight_sqnr_table

FIT = {"max_epochs": 3, "batch_size": 32, "seed": 0, "optimizer": {"name": "AdamW", "lr": 0.01},
       "scheduler": {"name": "none"}}
CONFIG = {"model": {"arch": "plain_cnn", "channels": [4, 8], "hidden": 16, "dropout": 0.0},
          "fit": FIT}
TRAINER = {"accelerator": "cpu", "progress_bar": False}
LATENCY = {"repeats": 2, "warmup": 1, "threads": 1}


@pytest.fixture(scope="module")
def splits(tmp_path_factory) -> dict[str, np.ndarray]:
    """Two classes a model can tell apart: bright images against dark ones."""
    rng = np.random.default_rng(0)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 2, n)
        images = rng.integers(0, 100, (n, 28, 28)) + 150 * labels[:, None, None]
        return images.astype(np.uint8), labels
    data = {}
    for name, n in (("train", 256), ("val", 64), ("test", 64)):
        data[f"{name}_images"], data[f"{name}_labels"] = split(n)
    FIT["checkpoint_dir"] = str(tmp_path_factory.mktemp("checkpoints"))
    return data


@pytest.fixture(scope="module")
def trained(splits):
    return nodes.train_member(splits, CONFIG, TRAINER, LATENCY, 1, name="plain_cnn")


def test_training_learns_a_separable_task_and_measures_the_network(trained) -> None:
    model, history, row = trained
    assert len(history) == 3
    assert row["test_acc"] > 0.9
    assert row["params"] == sum(p.numel() for p in model.parameters())
    assert row["macs"] > 0 and row["latency_ms"] > 0


def test_the_pareto_front_keeps_the_undominated_networks() -> None:
    rows = [{"network": "a", "test_acc": 0.9, "macs": 10, "params": 5, "val_acc": 0.9, "latency_ms": 1.0},
            {"network": "b", "test_acc": 0.8, "macs": 20, "params": 1, "val_acc": 0.8, "latency_ms": 1.0},
            {"network": "c", "test_acc": 0.95, "macs": 30, "params": 9, "val_acc": 0.9, "latency_ms": 1.0}]
    table, metrics = nodes.family_table(*rows)
    assert table["pareto_macs"].tolist() == [True, False, True]   # b: less accurate and costlier than a
    assert table["pareto_params"].tolist() == [True, True, True]
    assert metrics["family/a/test_acc"]["value"] == 0.9
    assert figures.pareto_figure(table).axes


def test_per_channel_scales_recover_channels_with_small_ranges() -> None:
    """One channel 1000x larger than the rest: per tensor, the small ones round to zero."""
    weight = torch.randn(8, 1, 3, 3)
    weight[0] *= 1000
    per_tensor, per_channel = fake_int8(weight, "per_tensor"), fake_int8(weight, "per_channel")
    assert torch.count_nonzero(per_tensor[1:]) == 0
    assert sqnr_db(weight[1:], per_tensor[1:]) == pytest.approx(0.0)   # all signal lost
    assert sqnr_db(weight[1:], per_channel[1:]) > 35
    assert (per_channel.reshape(8, -1).abs().amax(1) - weight.reshape(8, -1).abs().amax(1)).abs().max() < 1e-3 * 1000


def test_sqnr_of_a_uniform_int8_round_trip_is_near_six_db_per_bit() -> None:
    weight = torch.rand(64, 1, 3, 3) * 2 - 1
    assert 40 < sqnr_db(weight, fake_int8(weight, "per_channel")) < 52   # 6.02 * 8 + 1.76 = 49.9 dB for full range


def test_batchnorm_is_folded_before_the_error_is_measured() -> None:
    block = nn.Sequential(nn.Conv2d(4, 4, 3, groups=4, bias=False), nn.BatchNorm2d(4))
    block[1].weight.data = torch.tensor([1.0, 100.0, 1.0, 1.0])
    table = weight_sqnr_table(nn.Sequential(block))
    assert table["kind"].tolist() == ["depthwise"]
    assert table["range_spread"].iloc[0] > 10
    assert table["sqnr_per_channel_db"].iloc[0] > table["sqnr_per_tensor_db"].iloc[0] + 10


def test_quantization_schemes_compare_per_tensor_with_per_channel(splits) -> None:
    model = build_model({"arch": "mobilenet_v2", "width": 0.25, "stem_stride": 1})
    accuracy, layers, metrics = nodes.quantization_schemes(model, splits, {"calibration_size": 64, "batch_size": 32})
    assert accuracy["scheme"].tolist() == ["fp32", "int8 per tensor", "int8 per channel"]
    assert accuracy["test_acc"].between(0, 1).all()
    assert set(layers["kind"]) == {"depthwise", "pointwise", "full"}
    # a finer scale bounds each weight's rounding error lower; realized errors may still tie
    assert layers["sqnr_per_channel_db"].median() >= layers["sqnr_per_tensor_db"].median()
    assert "quantization/depthwise/sqnr_per_tensor_db_median" in metrics
    assert figures.quantization_figure(accuracy, layers).axes


def test_the_imagenet_table_puts_ours_beside_the_published_counts() -> None:
    table, metrics = nodes.imagenet_table()
    assert (table["params"] == table["published_params"]).all()
    assert table["macs_ratio"].between(0.985, 1.015).all()
    assert metrics["imagenet/mobilenet_v2/params"]["value"] == 3_504_872
    assert figures.imagenet_figure(table).axes


def test_curves_figure_draws_every_history() -> None:
    history = pd.DataFrame({"epoch": [0, 1], "val_acc": [0.5, 0.6], "train_loss": [1.0, 0.8]})
    figure = figures.curves_figure(a=history, b=history)
    assert len(figure.axes[0].get_lines()) == 2
