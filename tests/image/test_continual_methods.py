"""The continual-learning maths against independent computations: EWC's Fisher, SI's path
integral, A-GEM's projection, reservoir sampling, LwF's distillation loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from dl_roadmap.image.continual_methods import (
    PathIntegral, Reservoir, agem_project, distillation_loss, fisher_diagonal, flat_grad, quadratic_penalty,
    set_flat_grad)


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 4))


def per_item_squared_grads(model: nn.Module, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> dict:
    """The mean squared per-item gradient of log p(y|x), one backward pass per item."""
    totals = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for xi, yi, mi in zip(x, y, mask):
        model.zero_grad()
        logits = model(xi.unsqueeze(0))[0].masked_fill(~mi, float("-inf"))
        torch.log_softmax(logits, 0)[yi].backward()
        for n, p in model.named_parameters():
            totals[n] += p.grad ** 2
    return {n: t / len(x) for n, t in totals.items()}


def test_fisher_is_the_mean_squared_per_item_gradient() -> None:
    model = tiny_model()
    x = torch.randn(13, 3)
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 0, 1, 0])
    mask = torch.ones(13, 4, dtype=torch.bool)
    mask[10:, 2:] = False  # the last items' softmax runs over two units only
    ours = fisher_diagonal(model, x, mask, labels=y, sampled=False, batch_size=4)
    reference = per_item_squared_grads(model, x, y, mask)
    for name in reference:
        torch.testing.assert_close(ours[name], reference[name], rtol=1e-5, atol=1e-7)


def test_sampled_fisher_averages_over_the_models_own_labels() -> None:
    """E_{y~p(y|x)} g_y^2 = Σ_y p(y|x) g_y^2: the sampled estimate approaches the exact sum."""
    model = tiny_model()
    x = torch.randn(1, 3)
    mask = torch.ones(1, 4, dtype=torch.bool)
    probs = torch.softmax(model(x)[0], 0).detach()
    exact = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for label in range(4):
        grads = per_item_squared_grads(model, x, torch.tensor([label]), mask)
        for n in exact:
            exact[n] += probs[label] * grads[n]
    sampled = fisher_diagonal(model, x.expand(4000, 3), mask.expand(4000, 4), sampled=True,
                              generator=torch.Generator().manual_seed(0), batch_size=1000)
    for n in exact:
        torch.testing.assert_close(sampled[n], exact[n], rtol=0.1, atol=1e-4)


def test_ewc_penalty_by_hand() -> None:
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(3.0)
    anchors = [{"weight": torch.tensor([[1.0]])}, {"weight": torch.tensor([[2.0]])}]
    fishers = [{"weight": torch.tensor([[0.5]])}, {"weight": torch.tensor([[4.0]])}]
    assert float(quadratic_penalty(model, anchors, fishers).detach()) == pytest.approx(0.5 * 4 + 4.0 * 1)


def test_agem_projection_removes_the_conflict_and_nothing_else() -> None:
    generator = torch.Generator().manual_seed(0)
    for _ in range(200):
        g, g_ref = torch.randn(50, generator=generator), torch.randn(50, generator=generator)
        projected = agem_project(g, g_ref)
        assert torch.dot(projected, g_ref) >= -1e-5
        if torch.dot(g, g_ref) >= 0:
            assert torch.equal(projected, g), "no conflict: the gradient is left as it is"
        else:
            assert torch.dot(projected, g_ref) == pytest.approx(0.0, abs=1e-4)
            change = g - projected  # only along g_ref
            assert torch.allclose(change, torch.dot(change, g_ref) / torch.dot(g_ref, g_ref) * g_ref, atol=1e-5)


def test_flat_gradients_round_trip() -> None:
    model = tiny_model()
    model(torch.randn(2, 3)).sum().backward()
    vector = flat_grad(model)
    set_flat_grad(model, 2 * vector)
    torch.testing.assert_close(flat_grad(model), 2 * vector)


def test_reservoir_keeps_every_item_with_the_same_probability() -> None:
    """After 100 items through a 10-slot reservoir each item is kept with probability 0.1:
    3,000 seeded streams, a chi-square test of the inclusion counts against uniform."""
    from scipy.stats import chisquare

    n, capacity, trials = 100, 10, 3000
    counts = np.zeros(n)
    for trial in range(trials):
        reservoir = Reservoir(capacity, seed=trial)
        reservoir.extend(range(n))
        assert len(reservoir.items) == capacity and len(set(reservoir.items)) == capacity
        counts[reservoir.items] += 1
    assert np.abs(counts / trials - capacity / n).max() < 0.03
    assert chisquare(counts).pvalue > 0.001
    # a biased sampler fails the same test: keeping the last 10 items
    assert chisquare(np.r_[np.zeros(90), np.full(10, trials)]).pvalue < 1e-6


def test_reservoir_stores_the_first_items_outright_and_resumes_exactly() -> None:
    reservoir = Reservoir(5, seed=1)
    reservoir.extend(range(5))
    assert reservoir.items == [0, 1, 2, 3, 4]
    reservoir.extend(range(5, 50))
    copy = Reservoir(5, seed=99)
    copy.load_state_dict(reservoir.state_dict())
    reservoir.extend(range(50, 80))
    copy.extend(range(50, 80))
    assert reservoir.items == copy.items and reservoir.seen == copy.seen == 80


def test_si_path_integral_on_a_quadratic() -> None:
    """L(θ) = a/2 (θ − θ*)^2 with plain gradient descent: d_t = θ_t − θ* = r^t d_0, r = 1 − ηa, and
    each step contributes −g Δθ = η g^2 = η a^2 d_t^2, so w = η a^2 d_0^2 (1 − r^{2T}) / (1 − r^2);
    Ω = w / ((θ_T − θ_0)^2 + ξ). For small η, w is close to the loss decrease L(θ_0) − L(θ_T)."""
    a, target, lr, steps, xi, d0 = 2.0, 1.0, 0.01, 100, 0.1, 3.0
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(target + d0)
    path = PathIntegral(model, xi=xi)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        (a / 2 * (model.weight - target) ** 2).sum().backward()
        path.before_step(model)
        optimizer.step()
        path.after_step(model)
    r = 1 - lr * a
    w = lr * a ** 2 * d0 ** 2 * (1 - r ** (2 * steps)) / (1 - r ** 2)
    assert float(path.w["weight"]) == pytest.approx(w, rel=1e-4)
    d_end = r ** steps * d0
    assert float(path.w["weight"]) == pytest.approx(a / 2 * (d0 ** 2 - d_end ** 2), rel=0.02)
    path.consolidate(model)
    assert float(path.omega["weight"]) == pytest.approx(w / ((d_end - d0) ** 2 + xi), rel=1e-4)
    assert float(path.w["weight"]) == 0.0 and float(path.start["weight"]) == pytest.approx(target + d_end)


def test_distillation_loss_is_the_soft_cross_entropy_at_temperature() -> None:
    torch.manual_seed(0)
    logits, old = torch.randn(6, 5, requires_grad=True), torch.randn(6, 5)
    mask = torch.tensor([True, True, True, False, False]).expand(6, 5)
    T = 2.0
    ours = distillation_loss(logits, old, mask, T)
    targets = F.softmax(old[:, :3] / T, 1)
    reference = -(T ** 2) * (targets * F.log_softmax(logits[:, :3] / T, 1)).sum(1).mean()
    assert float(ours.detach()) == pytest.approx(float(reference.detach()), rel=1e-6)
    # matching the old outputs is its minimum: zero gradient there
    at_target = old.clone().requires_grad_(True)
    distillation_loss(at_target, old, mask, T).backward()
    assert at_target.grad.abs().max() < 1e-6
