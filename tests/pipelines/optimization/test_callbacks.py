"""The callbacks record what happens at each step of a real ``fit``."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from dl_roadmap.core.training import fit
from dl_roadmap.image.classification import classification_step
from dl_roadmap.pipelines.optimization.callbacks import StepRecorder, WeightEMA, gradient_norm

TRAINER = {"accelerator": "cpu", "progress_bar": False}


def one_batch_problem() -> tuple[TensorDataset, nn.Module]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(16, 4, generator=generator)
    y = torch.randint(0, 3, (16,), generator=generator)
    torch.manual_seed(0)
    return TensorDataset(x, y), nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))


def test_gradient_norm_is_the_l2_norm_of_all_gradients():
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)
    a.grad, b.grad = torch.tensor([3.0, 0.0]), torch.tensor([4.0])
    assert gradient_norm([a, b]) == pytest.approx(5.0)
    assert gradient_norm([torch.zeros(3, requires_grad=True)]) == 0.0


def test_recorder_sees_the_gradient_before_clipping(tmp_path):
    data, model = one_batch_problem()
    x, y = data.tensors
    # The gradient at the initial weights, computed by hand.
    reference = [p.detach().clone() for p in model.parameters()]
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    expected_total = float(torch.cat([g.flatten() for g in grads]).norm())
    expected_first = float(grads[0].norm())

    recorder = StepRecorder({"first": model[0].weight})
    clip, lr = 1e-3, 0.1
    fit(model, data, step=classification_step, name="record", trainer_params=TRAINER, callbacks=[recorder],
        fit_params={"max_epochs": 2, "batch_size": 16, "checkpoint_dir": str(tmp_path), "gradient_clip_val": clip,
                    "optimizer": {"name": "dl_roadmap.pipelines.optimization.optimizers.SGD", "lr": lr}})
    frame = recorder.frame()
    assert frame["step"].tolist() == [0, 1] and frame["epoch"].tolist() == [0, 1]
    assert frame.loc[0, "loss"] == pytest.approx(float(loss.detach()), rel=1e-5)
    assert frame.loc[0, "grad_norm"] == pytest.approx(expected_total, rel=1e-5)
    assert frame.loc[0, "grad_norm/first"] == pytest.approx(expected_first, rel=1e-5)
    assert expected_total > 100 * clip, "so the recorded norm is clearly the unclipped one"
    # ...while the step itself was clipped: the weights moved by at most lr * clip in total.
    moved = torch.cat([(p.detach() - r).flatten() for p, r in zip(model.parameters(), reference)]).norm()
    assert float(moved) <= 2 * lr * clip * 1.001


def test_weight_ema_scores_raw_and_averaged_weights_each_epoch(tmp_path):
    data, model = one_batch_problem()
    x, y = data.tensors
    ema = WeightEMA(0.5, x, y)
    fit(model, data, step=classification_step, name="ema", trainer_params=TRAINER, callbacks=[ema],
        fit_params={"max_epochs": 3, "batch_size": 8, "checkpoint_dir": str(tmp_path),
                    "optimizer": {"name": "SGD", "lr": 0.5}})
    frame = ema.frame()
    assert frame["epoch"].tolist() == [0, 1, 2]
    assert {"raw_acc", "raw_loss", "ema_acc", "ema_loss"} <= set(frame.columns)
    assert ema.average.steps == 6, "one update per optimizer step"
    assert not torch.allclose(ema.raw_state["0.weight"], ema.ema_state["0.weight"])
    assert torch.equal(ema.raw_state["0.weight"], model[0].weight.detach())
