"""BigGAN's pieces: conditional batch norm, the projection discriminator's formula, the
library's spectral norm against the largest singular value, hinge losses, truncation."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from dl_roadmap.pipelines.advanced_generative_gans.biggan import (
    BigGenerator, ConditionalBatchNorm, ProjectionDiscriminator, hinge_discriminator_loss, hinge_generator_loss,
    truncated_normal,
)


def test_conditional_batch_norm_is_the_formula() -> None:
    norm = ConditionalBatchNorm(3, condition_dim=4)
    with torch.no_grad():
        norm.gain.weight.normal_()
        norm.bias.weight.normal_()
    x, condition = torch.randn(8, 3, 5, 5), torch.randn(8, 4)
    normalised = (x - x.mean(dim=(0, 2, 3), keepdim=True)) / torch.sqrt(x.var(dim=(0, 2, 3), unbiased=False, keepdim=True) + 1e-5)
    expected = (1 + norm.gain(condition))[:, :, None, None] * normalised + norm.bias(condition)[:, :, None, None]
    assert torch.allclose(norm(x, condition), expected, atol=1e-5)


def test_projection_discriminator_is_psi_plus_inner_product() -> None:
    torch.manual_seed(0)
    critic = ProjectionDiscriminator(classes=4, channels=8).eval()
    x, labels = torch.randn(3, 1, 28, 28), torch.tensor([0, 2, 3])
    with torch.no_grad():
        phi = critic.features(x).sum(dim=(2, 3))
        expected = critic.psi(phi).squeeze(1) + (critic.embed.weight[labels] * phi).sum(1)
        assert torch.allclose(critic(x, labels), expected, atol=1e-5)
        assert not torch.allclose(critic(x, labels), critic(x, (labels + 1) % 4)), "the class changes the score"


def test_library_spectral_norm_divides_by_the_largest_singular_value() -> None:
    torch.manual_seed(0)
    layer = spectral_norm(nn.Linear(20, 30))
    for _ in range(50):  # power iterations run in training mode, one per forward
        layer(torch.randn(2, 20))
    layer.eval()
    original = layer.parametrizations.weight.original
    sigma = torch.linalg.matrix_norm(original.detach(), ord=2)
    assert torch.allclose(layer.weight, original / sigma, atol=1e-4)
    assert float(torch.linalg.matrix_norm(layer.weight.detach(), ord=2)) == pytest.approx(1.0, abs=1e-4)


def test_hinge_losses() -> None:
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])
    assert float(hinge_discriminator_loss(real, fake)) == pytest.approx((0 + 0.5) / 2 + (0 + 1) / 2)
    assert float(hinge_generator_loss(fake)) == pytest.approx(1.0)


def test_truncated_normal_stays_inside_the_threshold() -> None:
    z = truncated_normal(500, 16, 0.5, torch.Generator().manual_seed(0))
    assert z.abs().max() <= 0.5 and z.std() > 0.2
    with pytest.raises(ValueError, match="threshold"):
        truncated_normal(2, 2, 0.0, torch.Generator())


def test_generator_draws_the_requested_classes() -> None:
    generator = BigGenerator(z_dim=8, classes=3, embed_dim=4, channels=8)
    generator(torch.randn(4, 8), torch.tensor([0, 1, 2, 0]))  # BatchNorm statistics
    generator.eval()
    images = generator.sample(4, torch.Generator().manual_seed(0), torch.tensor([1, 1, 1, 1]), threshold=1.0)
    assert images.shape == (4, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    with torch.no_grad():  # conditional BN starts as plain BN (zero gain and bias maps): move it off
        for module in generator.modules():
            if isinstance(module, ConditionalBatchNorm):
                module.gain.weight.normal_()
    same_z = generator(torch.zeros(2, 8), torch.tensor([0, 2]))
    assert not torch.allclose(same_z[0], same_z[1]), "the class embedding conditions the image"
