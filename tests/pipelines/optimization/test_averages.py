"""Moving averages: SMA, EMA with and without bias correction, and the EMA of the weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dl_roadmap.pipelines.optimization.averages import (
    WeightAverage, exponential_moving_average, simple_moving_average,
)


def test_simple_moving_average_by_hand():
    np.testing.assert_allclose(simple_moving_average([1, 2, 3, 4, 5], 3), [1, 1.5, 2, 3, 4])
    np.testing.assert_allclose(simple_moving_average([4.0, 8.0], 1), [4.0, 8.0])
    with pytest.raises(ValueError, match="window"):
        simple_moving_average([1.0], 0)


def test_ema_by_hand():
    # beta 0.5: s1 = 0.5*1 = 0.5, s2 = 0.25 + 0.5*3 = 1.75, s3 = 0.875 + 0.5*2 = 1.875
    np.testing.assert_allclose(exponential_moving_average([1, 3, 2], 0.5, bias_correction=False), [0.5, 1.75, 1.875])
    # corrected: divide by 1 - 0.5^t = 0.5, 0.75, 0.875
    np.testing.assert_allclose(exponential_moving_average([1, 3, 2], 0.5), [1.0, 1.75 / 0.75, 1.875 / 0.875])
    with pytest.raises(ValueError, match="beta"):
        exponential_moving_average([1.0], 1.0)


def test_bias_corrected_ema_of_a_constant_is_the_constant_from_step_one():
    constant = np.full(200, 3.7)
    corrected = exponential_moving_average(constant, 0.98)
    np.testing.assert_allclose(corrected, 3.7, rtol=1e-12)
    plain = exponential_moving_average(constant, 0.98, bias_correction=False)
    assert plain[0] == pytest.approx(3.7 * 0.02), "the plain EMA starts at (1 - beta) x"
    np.testing.assert_allclose(plain, 3.7 * (1 - 0.98 ** np.arange(1, 201)))
    assert plain[-1] == pytest.approx(3.7, rel=0.02), "the bias fades after ~1/(1-beta) steps"


def test_weight_average_equals_the_hand_computed_ema():
    model = nn.Linear(2, 1)
    history = [torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, -2.0]]), torch.tensor([[5.0, 0.0]])]
    average = WeightAverage(model, beta=0.5)
    with pytest.raises(RuntimeError, match="no update"):
        average.averaged(model)
    for weights in history:
        with torch.no_grad():
            model.weight.copy_(weights)
        average.update(model)
    # s = 0.5 s + 0.5 w: s1 = (0.5, 1), s2 = (1.75, -0.5), s3 = (3.375, -0.25); / (1 - 0.125)
    expected = torch.tensor([[3.375, -0.25]]) / 0.875
    assert torch.allclose(average.averaged(model)["weight"], expected)
    assert torch.equal(model.weight, history[-1]), "the model itself keeps its raw weights"


def test_weight_average_after_one_step_is_the_weights_and_keeps_buffers():
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    average = WeightAverage(model, beta=0.999)
    average.update(model)
    state = average.averaged(model)
    for name, p in model.named_parameters():
        assert torch.allclose(state[name], p), "bias correction: no pull toward 0 or the start"
    assert torch.equal(state["1.running_var"], model[1].running_var)
