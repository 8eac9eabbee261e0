"""DropConnect as a layer, and the MLP the variants share."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.pipelines.regularization.models import DropConnectLinear, RegularizedMLP, penalized_weights


def effective_weights(layer: DropConnectLinear) -> tuple[torch.Tensor, torch.Tensor]:
    """One training-mode forward pass on the identity matrix: row j of the output is
    column j of the weights actually used, plus the bias. Returns (used weights, output)."""
    eye = torch.eye(layer.in_features, requires_grad=False)
    out = layer(eye)
    return (out - layer.bias).T.detach(), out


def test_train_mode_drops_weights_at_rate_p_and_rescales_the_kept_ones():
    torch.manual_seed(0)
    p = 0.3
    layer = DropConnectLinear(200, 150, p=p).train()
    used, _ = effective_weights(layer)
    dropped = used == 0
    assert dropped.float().mean().item() == pytest.approx(p, abs=0.01), "30,000 weights: the share is ~p"
    kept = ~dropped
    assert torch.allclose(used[kept], layer.weight.detach()[kept] / (1 - p), atol=1e-6), "kept weights scaled 1/(1-p)"
    # A fresh mask each pass.
    assert not torch.equal(effective_weights(layer)[0] == 0, dropped)


def test_train_mode_is_unbiased_its_mean_output_is_the_eval_output():
    torch.manual_seed(1)
    layer = DropConnectLinear(20, 5, p=0.5)
    x = torch.randn(8, 20)
    with torch.no_grad():
        expected = layer.eval()(x)
        layer.train()
        mean = torch.stack([layer(x) for _ in range(20000)]).mean(0)
    # Each output's std over masks is ~ sqrt(sum (w x)^2) ~ 0.5 here: 20,000 draws -> ~0.004.
    assert torch.allclose(mean, expected, atol=0.03)


def test_eval_mode_is_deterministic_and_uses_the_expected_weights():
    layer = DropConnectLinear(10, 4, p=0.6).eval()
    x = torch.randn(3, 10)
    assert torch.equal(layer(x), layer(x))
    assert torch.allclose(layer(x), F.linear(x, layer.weight, layer.bias))


def test_gradient_flows_only_through_kept_weights():
    torch.manual_seed(2)
    p = 0.4
    layer = DropConnectLinear(30, 12, p=p).train()
    used, out = effective_weights(layer)
    out.sum().backward()
    # d sum(out) / dW_ij = M_ij / (1 - p) * sum_n x_nj, and sum_n x_nj = 1 for the identity.
    kept = (used != 0).float()
    assert torch.allclose(layer.weight.grad, kept / (1 - p))
    assert torch.all(layer.weight.grad[used == 0] == 0)
    assert torch.allclose(layer.bias.grad, torch.full((12,), 30.0)), "the bias is never dropped"


def test_dropconnect_rate_is_checked():
    plain = DropConnectLinear(4, 2, p=0.0).train()
    assert torch.allclose(plain(torch.eye(4)), F.linear(torch.eye(4), plain.weight, plain.bias)), "p = 0: a Linear"
    with pytest.raises(ValueError, match="dropconnect: a rate in"):
        DropConnectLinear(4, 2, p=1.0)


def test_mlp_switches_each_regulariser_on_alone():
    plain = RegularizedMLP(depth=2, width=8)
    assert not any(isinstance(m, (nn.Dropout, nn.BatchNorm1d, DropConnectLinear)) for m in plain.modules())
    assert sum(isinstance(m, nn.Dropout) for m in RegularizedMLP(depth=2, width=8, dropout=0.5).modules()) == 2
    assert sum(isinstance(m, DropConnectLinear) for m in RegularizedMLP(depth=2, width=8, dropconnect=0.5).modules()) == 2
    assert sum(isinstance(m, nn.BatchNorm1d) for m in RegularizedMLP(depth=2, width=8, batchnorm=True).modules()) == 2
    assert isinstance(RegularizedMLP(depth=2, width=8, input_dropout=0.2).input_dropout, nn.Dropout)
    assert RegularizedMLP(depth=2, width=8)(torch.rand(5, 1, 28, 28)).shape == (5, 10)
    # Same seed, same start: a variant's difference is its regulariser, not its initial weights.
    for a, b in zip(penalized_weights(plain), penalized_weights(RegularizedMLP(depth=2, width=8, dropconnect=0.5))):
        assert torch.equal(a, b)
    assert len(penalized_weights(plain)) == 3, "two hidden layers and the head; no biases"
    with pytest.raises(ValueError, match="model.dropout"):
        RegularizedMLP(dropout=1.5)
    with pytest.raises(ValueError, match="model.input_dropout"):
        RegularizedMLP(input_dropout=-0.1)
