"""L1/L2 penalty terms, and L2 in the loss against decoupled weight decay under Adam."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dl_roadmap.pipelines.regularization.penalties import l1_penalty, l2_penalty, penalized_step


def hand_model() -> nn.Module:
    """Linear(2 -> 1) with weights (1, -2) and bias 5, then BatchNorm (not penalised)."""
    linear = nn.Linear(2, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, -2.0]]))
        linear.bias.fill_(5.0)
    return nn.Sequential(linear, nn.BatchNorm1d(1))


def test_penalties_cover_linear_weights_only():
    model = hand_model()
    assert float(l1_penalty(model).detach()) == pytest.approx(3.0)  # |1| + |-2|
    assert float(l2_penalty(model).detach()) == pytest.approx(2.5)  # (1 + 4) / 2


def test_penalty_gradients_are_sign_and_w():
    model = hand_model()
    l1_penalty(model).backward()
    assert model[0].weight.grad.tolist() == [[1.0, -1.0]]
    assert model[0].bias.grad is None or float(model[0].bias.grad.abs().sum()) == 0
    model.zero_grad()
    l2_penalty(model).backward()
    assert model[0].weight.grad.tolist() == [[1.0, -2.0]]


def test_penalized_step_adds_the_terms_in_training_only():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    batch = (torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2]))
    plain = penalized_step(model.train(), batch)
    penalised = penalized_step(model.train(), batch, l1=0.1, l2=0.2)
    expected = plain["loss"] + 0.1 * l1_penalty(model) + 0.2 * l2_penalty(model)
    assert torch.allclose(penalised["loss"], expected)
    assert torch.allclose(penalised["ce"], plain["loss"]), "ce is the data term alone"
    evaluated = penalized_step(model.eval(), batch, l1=0.1, l2=0.2)
    assert torch.allclose(evaluated["loss"], plain["loss"]), "validation loss has no penalty"


def one_weight(value: float = 1.0) -> nn.Linear:
    layer = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        layer.weight.fill_(value)
    return layer


def adam_step(data_gradient: float, lam: float, lr: float, decoupled: bool) -> float:
    """One optimizer step on w = 1 with loss = data_gradient * w (+ lam * L2 unless decoupled)."""
    layer = one_weight()
    if decoupled:
        optimizer = torch.optim.AdamW(layer.parameters(), lr=lr, weight_decay=lam)
        loss = data_gradient * layer.weight.sum()
    else:
        optimizer = torch.optim.Adam(layer.parameters(), lr=lr)
        loss = data_gradient * layer.weight.sum() + lam * l2_penalty(layer)
    loss.backward()
    optimizer.step()
    return float(layer.weight.detach())


def test_l2_under_adam_differs_from_decoupled_weight_decay_by_hand():
    """w = 1, lr = 0.1, lambda = 0.5, Adam's first step moves by lr * m_hat / sqrt(v_hat) = lr * sign(g):

    - L2 in the loss: g = 2 + 0.5 * 1 = 2.5, so w = 1 - 0.1 * 2.5 / 2.5 = 0.9: the decay
      term went through Adam's normalisation and vanished into the unit-size step.
    - AdamW: w = 1 * (1 - 0.1 * 0.5) = 0.95 (decay), then - 0.1 * 2 / 2 = 0.85.
    With no data gradient (a weight the data never touches, e.g. a border pixel's):
    L2 gives g = 0.5, a full step to 0.9 whatever lambda is; AdamW decays to 0.95.
    """
    assert adam_step(2.0, 0.5, 0.1, decoupled=False) == pytest.approx(0.9, abs=1e-6)
    assert adam_step(2.0, 0.5, 0.1, decoupled=True) == pytest.approx(0.85, abs=1e-6)
    assert adam_step(0.0, 0.5, 0.1, decoupled=False) == pytest.approx(0.9, abs=1e-6)
    assert adam_step(0.0, 0.001, 0.1, decoupled=False) == pytest.approx(0.9, abs=1e-6), "L2 step size ignores lambda"
    assert adam_step(0.0, 0.5, 0.1, decoupled=True) == pytest.approx(0.95, abs=1e-6)


def test_l2_in_the_loss_is_torch_adams_coupled_weight_decay():
    """lambda * l2_penalty has gradient lambda * w, exactly Adam(weight_decay=lambda):
    so the 'l2' variant and torch's Adam weight_decay are the same method."""
    torch.manual_seed(0)
    x, target = torch.randn(16, 1), torch.randn(16, 1)
    explicit, coupled = one_weight(0.7), one_weight(0.7)
    opt_explicit = torch.optim.Adam(explicit.parameters(), lr=0.05)
    opt_coupled = torch.optim.Adam(coupled.parameters(), lr=0.05, weight_decay=0.3)
    for _ in range(5):
        for model, optimizer, lam in ((explicit, opt_explicit, 0.3), (coupled, opt_coupled, 0.0)):
            optimizer.zero_grad()
            (((model(x) - target) ** 2).mean() + lam * l2_penalty(model)).backward()
            optimizer.step()
    assert float(explicit.weight.detach()) == pytest.approx(float(coupled.weight.detach()), abs=1e-6)
