"""Tests for dl_roadmap.image.blocks: activations, initialisation, standardisation, DeepMLP."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dl_roadmap.image.blocks import (
    ACTIVATIONS, INIT_FOR, DeepMLP, Standardize, init_linear_, make_activation, mlp_from_config,
)
from dl_roadmap.image.data import MNIST_PIXEL_MEAN, MNIST_PIXEL_STD


def test_each_activation_gets_its_own_init_and_dropout_kind():
    for name in ACTIVATIONS:
        model = DeepMLP(name, depth=2, width=8, dropout=0.1)
        assert model.init == INIT_FOR[name]
        drop = model.hidden[0][2]
        assert type(drop) is (nn.AlphaDropout if name == "selu" else nn.Dropout) and drop.p == 0.1
        assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        DeepMLP("swish")
    with pytest.raises(ValueError, match="unknown scheme 'orthogonal'"):
        DeepMLP("relu", init="orthogonal")
    with pytest.raises(ValueError, match="dropout: a rate in"):
        DeepMLP("relu", dropout=1.0)


def test_activations_compute_their_formulas():
    z = torch.tensor([-2.0, -0.5, 0.0, 1.5])
    torch.testing.assert_close(make_activation("leaky_relu", negative_slope=0.2)(z), torch.where(z > 0, z, 0.2 * z))
    torch.testing.assert_close(make_activation("elu", elu_alpha=0.5)(z), torch.where(z > 0, z, 0.5 * (z.exp() - 1)))
    lam, alpha = 1.0507009873554805, 1.6732632423543772
    torch.testing.assert_close(make_activation("selu")(z), lam * torch.where(z > 0, z, alpha * (z.exp() - 1)))
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        make_activation("gelu")


def test_init_variances_follow_their_formulas():
    fan_in, fan_out = 2000, 1000

    def weight_var(scheme: str, activation: str, slope: float = 0.01) -> float:
        layer = nn.Linear(fan_in, fan_out)
        init_linear_(layer, scheme, activation, slope, torch.Generator().manual_seed(0))
        assert torch.count_nonzero(layer.bias) == 0
        return float(layer.weight.detach().var())

    assert weight_var("lecun", "selu") == pytest.approx(1 / fan_in, rel=0.02)
    assert weight_var("he", "relu") == pytest.approx(2 / fan_in, rel=0.02)
    assert weight_var("he", "leaky_relu", 0.3) == pytest.approx(2 / (fan_in * (1 + 0.3**2)), rel=0.02)
    assert weight_var("xavier", "tanh") == pytest.approx(2 / (fan_in + fan_out), rel=0.02)


def test_standardize_uses_the_mnist_constants_by_default():
    x = torch.tensor([MNIST_PIXEL_MEAN, MNIST_PIXEL_MEAN + MNIST_PIXEL_STD])
    torch.testing.assert_close(Standardize()(x), torch.tensor([0.0, 1.0]))
    torch.testing.assert_close(Standardize(0.5, 0.25)(torch.tensor([1.0])), torch.tensor([2.0]))


def test_same_seed_same_weights_for_every_variant():
    for name in ACTIVATIONS:
        a, b, c = (DeepMLP(name, depth=3, width=16, seed=s) for s in (5, 5, 6))
        for pa, pb in zip(a.parameters(), b.parameters()):
            assert torch.equal(pa, pb)
        assert not torch.equal(a.hidden[0][0].weight, c.hidden[0][0].weight)


def test_stage_builder_reads_the_model_block_and_fit_seed():
    config = {"model": {"activation": "elu", "depth": 2, "width": 8}, "fit": {"seed": 4}}
    model = mlp_from_config(config)
    assert model.activation == "elu" and len(model.hidden) == 2
    assert torch.equal(model.head.weight, DeepMLP("elu", depth=2, width=8, seed=4).head.weight)
    assert torch.equal(mlp_from_config({"model": {"depth": 1}}).head.weight, DeepMLP(depth=1, seed=0).head.weight)
