"""Tests for dl_roadmap.core.optim: optimizers and per-step learning-rate schedules."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from dl_roadmap.core.optim import OptimizerParams, SchedulerParams, build_optimizer, build_scheduler
from dl_roadmap.core.schema import schema_problems

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


# --------------------------------------------------------------------------- schemas
def test_the_optimizer_schema_accepts_any_argument_of_the_named_class():
    """torch classes (any case) and classes by import path, with their own arguments."""
    for block in (
        {"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True},
        {"name": "AdamW", "lr": 0.0, "betas": [0.9, 0.99], "lr_scale": {"encoder": 0.3}},
        {"name": "torch.optim.sgd.SGD", "lr": 0.3, "dampening": 0.1},
    ):
        assert schema_problems(OptimizerParams, block, "fit.optimizer") == []


def test_an_argument_the_optimizer_class_does_not_take_is_named_with_the_accepted_ones():
    (problem,) = schema_problems(OptimizerParams, {"name": "SGD", "lr": 0.1, "momentun": 0.9}, "fit.optimizer")
    assert problem.startswith("fit.optimizer: ")
    assert "['momentun']" in problem and "torch.optim.sgd.SGD" in problem
    accepted = re.search(r"accepts (\[.*?\])", problem).group(1)
    assert "'momentum'" in accepted and "'nesterov'" in accepted and "'params'" not in accepted


@pytest.mark.parametrize(
    ("block", "key", "words"),
    [
        ({"name": "NoSuchOptimizer", "lr": 0.1}, "fit.optimizer.name", "unknown optimizer 'NoSuchOptimizer'"),
        ({"name": "torch.nn.Linear", "lr": 0.1}, "fit.optimizer.name", "not a torch.optim.Optimizer subclass"),
        ({"name": "SGD"}, "fit.optimizer.lr", "Field required"),
        ({"name": "SGD", "lr": -0.1}, "fit.optimizer.lr", "greater than or equal to 0"),
        ({"name": "SGD", "lr": 0.1, "lr_scale": {"encoder": 0}}, "fit.optimizer.lr_scale.encoder", "greater than 0"),
    ],
    ids=["unknown-name", "not-an-optimizer", "missing-lr", "negative-lr", "zero-scale"],
)
def test_bad_optimizer_blocks_name_the_dotted_key(block, key, words):
    (problem,) = schema_problems(OptimizerParams, block, "fit.optimizer")
    assert problem.startswith(f"{key}: ") and words in problem


def test_the_scheduler_schema_reads_names_in_any_case_and_each_schedules_options():
    for block in ({"name": "OneCycle", "pct_start": 0.3, "div_factor": 10}, {"name": "None"},
                  {"name": "cosine", "warmup_fraction": 0.1, "min_lr_ratio": 0.2},
                  {"name": "step", "step_fraction": 0.3, "gamma": 0.5}):
        assert schema_problems(SchedulerParams, block, "fit.scheduler") == []


@pytest.mark.parametrize(
    ("block", "key", "words"),
    [
        ({"name": "sawtooth"}, "fit.scheduler.name", "'none', 'onecycle', 'cosine' or 'step'"),
        ({"name": "onecycle", "warmup_fraction": 0.1}, "fit.scheduler",
         "['warmup_fraction'] not read by the 'onecycle' schedule; it reads ['pct_start'"),
        ({"name": "none", "gamma": 0.5}, "fit.scheduler", "['gamma'] not read by the 'none' schedule"),
        ({"name": "cosine", "warmup_fraction": 1.0}, "fit.scheduler.warmup_fraction", "less than 1"),
        ({"name": "cosine", "warmup": 0.1}, "fit.scheduler.warmup", "unknown key"),
    ],
    ids=["unknown-name", "other-schedules-option", "option-without-schedule", "warmup-all-run", "typo"],
)
def test_bad_scheduler_blocks_name_the_dotted_key(block, key, words):
    (problem,) = schema_problems(SchedulerParams, block, "fit.scheduler")
    assert problem.startswith(f"{key}: ") and words in problem


def test_a_dumped_block_holds_only_what_was_given():
    """Defaults derived from a schema leave unset options to the code's own defaults."""
    cosine = SchedulerParams(name="cosine", warmup_fraction=0.1)
    assert cosine.model_dump() == {"name": "cosine", "warmup_fraction": 0.1}
    sgd_block = OptimizerParams(name="SGD", lr=0.1, momentum=0.9)
    assert sgd_block.model_dump() == {"name": "SGD", "lr": 0.1, "momentum": 0.9}


def test_a_null_option_is_left_out_unless_the_schedule_reads_it():
    """Null drops an option a deep merge brought from another schedule; build_scheduler
    cannot read a null option of its own schedule, so the schema refuses that."""
    assert schema_problems(SchedulerParams, {"name": "none", "pct_start": None}, "fit.scheduler") == []
    (problem,) = schema_problems(SchedulerParams, {"name": "onecycle", "pct_start": None}, "fit.scheduler")
    assert problem.startswith("fit.scheduler: ")
    assert "['pct_start'] null, but the 'onecycle' schedule reads them" in problem
    with pytest.raises(TypeError):
        build_scheduler(sgd(), {"name": "onecycle", "pct_start": None}, TOTAL)
