"""Tests for dl_roadmap.core.optim: optimizers and per-step learning-rate schedules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dl_roadmap.core.optim import build_optimizer, build_scheduler

TOTAL = 100  # optimizer steps in a simulated run


class EncoderHead(nn.Module):
    """A pretrained-style ``encoder`` plus a fresh ``head`` (and one frozen layer)."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 3)
        self.head = nn.Linear(3, 2)
        self.frozen = nn.Linear(2, 2)
        self.frozen.requires_grad_(False)


def param_ids(params) -> set[int]:
    return {id(p) for p in params}


def lr_curve(optimizer: torch.optim.Optimizer, scheduler, steps: int = TOTAL, group: int = 0) -> list[float]:
    """The lr of ``group`` used at each of ``steps`` optimizer steps (as Lightning steps them)."""
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[group]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def sgd(lr: float = 1.0, model: nn.Module | None = None) -> torch.optim.Optimizer:
    return build_optimizer(model or nn.Linear(2, 1), {"name": "SGD", "lr": lr})


def test_build_optimizer_uses_the_named_class_case_insensitively_with_its_arguments():
    """``name`` picks any torch.optim class (any case); the other keys are its arguments."""
    model = nn.Linear(3, 2)
    optimizer = build_optimizer(model, {"name": "adamw", "lr": 0.01, "weight_decay": 0.2})
    assert type(optimizer) is torch.optim.AdamW
    assert len(optimizer.param_groups) == 1
    assert optimizer.param_groups[0]["lr"] == 0.01
    assert optimizer.param_groups[0]["weight_decay"] == 0.2
    assert param_ids(optimizer.param_groups[0]["params"]) == param_ids(model.parameters())


def test_a_dotted_name_imports_an_optimizer_written_elsewhere():
    """``package.module.Class``: any torch.optim.Optimizer subclass, by import path."""
    optimizer = build_optimizer(nn.Linear(3, 2), {"name": "torch.optim.sgd.SGD", "lr": 0.3, "momentum": 0.5})
    assert type(optimizer) is torch.optim.SGD
    assert optimizer.param_groups[0]["momentum"] == 0.5


def test_lr_scale_gives_the_named_submodule_its_own_group_at_a_scaled_rate():
    """lr_scale {encoder: 0.1}: encoder at lr*0.1, everything else trainable at lr, frozen left out."""
    model = EncoderHead()
    optimizer = build_optimizer(model, {"name": "SGD", "lr": 0.5, "lr_scale": {"encoder": 0.1}})

    assert len(optimizer.param_groups) == 2
    encoder_group, rest_group = optimizer.param_groups
    assert param_ids(encoder_group["params"]) == param_ids(model.encoder.parameters())
    assert encoder_group["lr"] == pytest.approx(0.05)
    assert param_ids(rest_group["params"]) == param_ids(model.head.parameters())
    assert rest_group["lr"] == 0.5
    assert not param_ids(model.frozen.parameters()) & param_ids(
        p for group in optimizer.param_groups for p in group["params"]
    )


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"name": "NoSuchOptimizer", "lr": 0.1}, "optimizer.name"),
        ({"name": "SGD"}, "optimizer.lr"),
        ({"name": "SGD", "lr": 0.1, "lr_scale": {"decoder": 0.1}}, "decoder"),
        ({"name": "no_such_module.Adam", "lr": 0.1}, "cannot import"),
        ({"name": "torch.nn.Linear", "lr": 0.1}, "not a torch.optim.Optimizer subclass"),
    ],
    ids=["unknown-name", "missing-lr", "unknown-submodule", "unknown-module", "not-an-optimizer"],
)
def test_build_optimizer_rejects_bad_parameters(params, key):
    """Unknown optimizer, missing lr and an lr_scale for a missing submodule are ValueErrors."""
    with pytest.raises(ValueError, match=key):
        build_optimizer(EncoderHead(), params)


@pytest.mark.parametrize("params", [None, {"name": "none"}, {"name": "None"}])
def test_no_schedule_means_a_constant_rate(params):
    """``none`` (or no scheduler block) returns no scheduler."""
    assert build_scheduler(sgd(), params, TOTAL) is None


def test_onecycle_warms_up_to_the_optimizer_lr_then_anneals():
    """onecycle: starts at lr/div_factor, peaks at lr after pct_start of the run, ends near 0."""
    optimizer = sgd(lr=1.0)
    lrs = lr_curve(optimizer, build_scheduler(optimizer, {"name": "OneCycle", "pct_start": 0.3}, TOTAL))

    peak = max(range(TOTAL), key=lrs.__getitem__)
    assert lrs[0] == pytest.approx(1.0 / 25)
    assert max(lrs) == pytest.approx(1.0)
    assert abs(peak - 0.3 * TOTAL) <= 1
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1 : peak + 1]))  # rising
    assert all(a > b for a, b in zip(lrs[peak:], lrs[peak + 1 :]))  # falling
    assert lrs[-1] < 1e-3


def test_onecycle_keeps_each_param_groups_own_peak():
    """With lr_scale, each group peaks at its own (scaled) rate."""
    optimizer = build_optimizer(EncoderHead(), {"name": "SGD", "lr": 1.0, "lr_scale": {"encoder": 0.1}})
    scheduler = build_scheduler(optimizer, {"name": "onecycle"}, TOTAL)
    peaks = [0.0, 0.0]
    for _ in range(TOTAL):
        peaks = [max(peak, group["lr"]) for peak, group in zip(peaks, optimizer.param_groups)]
        optimizer.step()
        scheduler.step()
    assert peaks == pytest.approx([0.1, 1.0])


def test_cosine_warms_up_linearly_then_decays_to_the_floor():
    """cosine: linear warm-up over warmup_fraction, then a cosine fall to lr*min_lr_ratio."""
    optimizer = sgd(lr=2.0)
    params = {"name": "cosine", "warmup_fraction": 0.1, "min_lr_ratio": 0.2}
    lrs = lr_curve(optimizer, build_scheduler(optimizer, params, TOTAL))

    warmup = 10
    assert lrs[:warmup] == pytest.approx([2.0 * (i + 1) / warmup for i in range(warmup)])
    assert lrs[warmup] == pytest.approx(2.0)  # the peak is the optimizer's lr
    assert all(a >= b for a, b in zip(lrs[warmup:], lrs[warmup + 1 :]))  # then it only falls
    assert lrs[warmup + 45] == pytest.approx(2.0 * (0.2 + 0.8 * 0.5))  # halfway down
    assert min(lrs[warmup:]) >= 2.0 * 0.2
    assert lrs[-1] == pytest.approx(2.0 * 0.2, abs=2e-3)


def test_cosine_without_warmup_starts_at_the_full_rate():
    """cosine with no warm-up begins at lr and decays to 0 by default."""
    optimizer = sgd(lr=1.0)
    lrs = lr_curve(optimizer, build_scheduler(optimizer, {"name": "cosine"}, TOTAL))
    assert lrs[0] == pytest.approx(1.0)
    assert lrs[-1] == pytest.approx(0.0, abs=1e-3)


def test_step_schedule_multiplies_by_gamma_every_step_fraction():
    """step: lr * gamma**k after each step_fraction of the run."""
    optimizer = sgd(lr=1.0)
    params = {"name": "step", "step_fraction": 0.3, "gamma": 0.5}
    lrs = lr_curve(optimizer, build_scheduler(optimizer, params, TOTAL))
    expected = [0.5 ** (i // 30) for i in range(TOTAL)]
    assert lrs == pytest.approx(expected)


def test_unknown_schedule_is_a_value_error_naming_the_key():
    """A typo in the scheduler name fails before training."""
    with pytest.raises(ValueError, match="scheduler.name"):
        build_scheduler(sgd(), {"name": "sawtooth"}, TOTAL)
