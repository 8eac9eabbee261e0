"""Every hand-written optimizer follows torch.optim's trajectory (float64, 1e-6), with the
same hyper-parameters, weight decay included where it applies."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dl_roadmap.core.optim import build_optimizer
from dl_roadmap.pipelines.optimization import optimizers as ours

STEPS = 8

# (our class, torch's class, hyper-parameters both take)
CASES = {
    "gradient_descent": (ours.GradientDescent, torch.optim.SGD, {"lr": 0.1}),
    "gradient_descent_decay": (ours.GradientDescent, torch.optim.SGD, {"lr": 0.1, "weight_decay": 0.01}),
    "sgd": (ours.SGD, torch.optim.SGD, {"lr": 0.05, "weight_decay": 0.001}),
    "momentum": (ours.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.001}),
    "nesterov": (ours.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001}),
    "rmsprop": (ours.RMSprop, torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.95, "eps": 1e-8, "weight_decay": 0.001}),
    "adam": (ours.Adam, torch.optim.Adam, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-8, "weight_decay": 0.01}),
    "adamw": (ours.AdamW, torch.optim.AdamW, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-8, "weight_decay": 0.1}),
}


def small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()


def trajectory(optimizer_class: type, hyper: dict, full_batch: bool) -> list[torch.Tensor]:
    """Parameters after each step on a fixed stream of batches (or the whole set each step)."""
    model = small_net()
    optimizer = optimizer_class(model.parameters(), **hyper)
    data = torch.randn(64, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    targets = torch.randint(0, 3, (64,), generator=torch.Generator().manual_seed(2))
    points = []
    for step in range(STEPS):
        rows = slice(None) if full_batch else slice(8 * step, 8 * step + 8)

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(data[rows]), targets[rows])
            loss.backward()
            return loss

        optimizer.step(closure)
        points.append(torch.cat([p.detach().flatten().clone() for p in model.parameters()]))
    return points


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_trajectory_as_torch(case):
    mine, theirs, hyper = CASES[case]
    full_batch = mine is ours.GradientDescent
    expected = trajectory(theirs, hyper, full_batch)
    got = trajectory(mine, hyper, full_batch)
    start = torch.cat([p.detach().flatten() for p in small_net().parameters()])
    assert not torch.allclose(expected[-1], start), "the parameters moved"
    for step, (a, b) in enumerate(zip(got, expected), start=1):
        assert torch.allclose(a, b, rtol=0, atol=1e-6), f"{case}: step {step} differs by {(a - b).abs().max():.2e}"


def test_weight_decay_changes_the_trajectory():
    """So the equivalence above really compares the decay terms (coupled vs decoupled)."""
    hyper = dict(CASES["adamw"][2])
    decayed = trajectory(ours.AdamW, hyper, False)[-1]
    plain = trajectory(ours.AdamW, {**hyper, "weight_decay": 0.0}, False)[-1]
    coupled = trajectory(ours.Adam, hyper, False)[-1]
    assert not torch.allclose(decayed, plain, atol=1e-6)
    assert not torch.allclose(decayed, coupled, atol=1e-6), "AdamW's decay is not Adam's L2 term"


def test_state_survives_a_state_dict_round_trip():
    model = small_net()
    first = ours.Adam(model.parameters(), lr=0.01)
    model(torch.randn(4, 5, dtype=torch.float64)).sum().backward()
    first.step()
    second = ours.Adam(model.parameters(), lr=0.01)
    second.load_state_dict(first.state_dict())
    assert next(iter(second.state.values()))["step"] == 1


def test_named_by_import_path_in_fit_parameters():
    model = small_net()
    optimizer = build_optimizer(model, {"name": "dl_roadmap.pipelines.optimization.optimizers.SGD", "lr": 0.1,
                                        "momentum": 0.9, "nesterov": True})
    assert type(optimizer) is ours.SGD and optimizer.param_groups[0]["nesterov"] is True


def test_bad_hyper_parameters_are_refused_by_name():
    params = small_net().parameters()
    with pytest.raises(ValueError, match="optimizer.lr"):
        ours.SGD(params, lr=-1.0)
    with pytest.raises(ValueError, match="optimizer.nesterov"):
        ours.SGD(small_net().parameters(), lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="optimizer.betas"):
        ours.Adam(small_net().parameters(), betas=(1.0, 0.999))
