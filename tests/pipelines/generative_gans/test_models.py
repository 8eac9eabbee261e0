"""generative_gans: the losses and the gradient penalty from their equations."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.pipelines.generative_gans.models import (
    Discriminator, Generator, gradient_penalty, ns_discriminator_loss, ns_generator_loss,
)


def test_non_saturating_losses_equal_binary_cross_entropy() -> None:
    real, fake = torch.randn(32), torch.randn(32)
    bce = F.binary_cross_entropy_with_logits
    torch.testing.assert_close(ns_discriminator_loss(real, fake), bce(real, torch.ones(32)) + bce(fake, torch.zeros(32)))
    torch.testing.assert_close(ns_generator_loss(fake), -torch.log(torch.sigmoid(fake)).mean())


class Linear(nn.Module):
    """D(x) = <w, x> + b: its input gradient is w everywhere."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.flatten(1) * self.w).sum(1) + 1.0


def test_gradient_penalty_of_a_linear_critic_is_its_norm_gap() -> None:
    """(||w|| - 1)^2 at every interpolate, and the penalty's gradient in w is 2 (||w|| - 1) w / ||w||:
    create_graph lets the penalty train the critic."""
    w = torch.randn(784, generator=torch.Generator().manual_seed(0)) * 0.1
    critic = Linear(w.clone())
    penalty = gradient_penalty(critic, torch.rand(8, 1, 28, 28), torch.rand(8, 1, 28, 28))
    norm = w.norm()
    torch.testing.assert_close(penalty, (norm - 1) ** 2)
    penalty.backward()
    torch.testing.assert_close(critic.w.grad, 2 * (norm - 1) * w / norm, rtol=1e-4, atol=1e-6)


def test_gradient_penalty_equals_a_per_example_loop() -> None:
    """A non-linear, conditional critic: the batched penalty equals one autograd call per example."""
    torch.manual_seed(0)
    critic = Discriminator(channels=4, classes=10, norm="layer")
    real, fake = torch.rand(6, 1, 28, 28), torch.rand(6, 1, 28, 28)
    labels, eps = torch.randint(0, 10, (6,)), torch.rand(6, 1, 1, 1)
    expected = []
    for i in range(6):
        x = (eps[i] * real[i: i + 1] + (1 - eps[i]) * fake[i: i + 1]).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x, labels[i: i + 1]).sum(), x)
        expected.append((grad.norm() - 1) ** 2)
    torch.testing.assert_close(gradient_penalty(critic, real, fake, labels, eps), torch.stack(expected).mean())


def test_generator_samples_images_in_the_unit_range_and_checks_labels() -> None:
    generator = Generator(z_dim=8, channels=4, classes=10)
    images = generator.sample(5, torch.Generator().manual_seed(0))
    assert images.shape == (5, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    with pytest.raises(ValueError, match="needs labels"):
        generator(torch.randn(2, 8))
