"""Tests for dl_roadmap.image.classification: the classification step and its factory."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dl_roadmap.image.classification import classification_step, classifier_step_for


class MeanPixelLogits(nn.Module):
    """Logits (mean pixel, 0): an augmentation that moves pixels changes the logits."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.flatten(1).mean(1, keepdim=True)
        return torch.cat([mean, torch.zeros_like(mean)], 1)


def test_step_is_cross_entropy_and_accuracy():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    model = nn.Flatten()  # the "images" are the logits themselves
    out = classification_step(model, (logits, torch.tensor([0, 0])))
    expected = -(math.log(math.exp(2) / (math.exp(2) + 1)) + math.log(1 / (1 + math.e))) / 2
    assert out["loss"].item() == pytest.approx(expected, rel=1e-6)
    assert out["acc"].item() == 0.5


def test_label_smoothing_spreads_part_of_the_target():
    logits, labels = torch.tensor([[3.0, 0.0]]), torch.tensor([0])
    s = 0.2
    smoothed = classification_step(nn.Flatten(), (logits, labels), label_smoothing=s)["loss"].item()
    log_p = torch.log_softmax(logits, 1)[0]
    # target: 1 - s on the true class plus s / classes on every class
    expected = -((1 - s + s / 2) * log_p[0] + (s / 2) * log_p[1]).item()
    assert smoothed == pytest.approx(expected, rel=1e-6)


def test_augmentation_applies_while_training_only():
    images = torch.zeros(8, 1, 28, 28)
    images[:, :, 10:18, 10:18] = 1.0
    labels = torch.zeros(8, dtype=torch.long)
    augment = {"degrees": 30.0, "translate": 0.3, "scale": 0.3}
    model = MeanPixelLogits()
    plain = classification_step(model.eval(), (images, labels))["loss"]
    torch.manual_seed(0)
    assert torch.equal(classification_step(model.eval(), (images, labels), augment=augment)["loss"], plain)
    torch.manual_seed(0)
    assert not torch.equal(classification_step(model.train(), (images, labels), augment=augment)["loss"], plain)


def test_step_factory_reads_augment_and_smoothing_from_the_config():
    step = classifier_step_for({"augment": {"degrees": 5.0}, "label_smoothing": 0.1, "fit": {}})
    assert step.func is classification_step
    assert step.keywords == {"augment": {"degrees": 5.0}, "label_smoothing": 0.1}
    assert classifier_step_for({}).keywords == {"augment": None, "label_smoothing": 0.0}
