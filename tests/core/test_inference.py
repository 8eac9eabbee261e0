"""Tests for dl_roadmap.core.inference: batched prediction and classifier scores."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from dl_roadmap.core.inference import classification_scores, predict


class FixedLogits(nn.Module):
    """Returns its input as logits, so the expected scores can be worked out by hand."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def test_predict_batches_in_eval_mode_and_returns_numpy():
    model = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.9)).train()
    inputs = torch.randn(10, 3)
    out = predict(model, inputs, batch_size=3)
    assert isinstance(out, np.ndarray) and out.shape == (10, 2)
    assert not model.training, "dropout off"
    np.testing.assert_allclose(out, model(inputs).detach().numpy(), rtol=1e-6)


def test_classification_scores_are_accuracy_and_mean_cross_entropy():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    labels = np.array([0, 1, 1])  # the third is wrong
    scores = classification_scores(FixedLogits(), logits, labels)
    assert scores["acc"] == pytest.approx(2 / 3)
    expected = -np.mean([math.log(math.exp(2) / (math.exp(2) + 1)), math.log(math.e / (1 + math.e)),
                         math.log(1 / (math.exp(3) + 1))])
    assert scores["loss"] == pytest.approx(expected, rel=1e-6)
    assert classification_scores(FixedLogits(), logits, torch.tensor(labels)) == scores, "tensor labels too"
