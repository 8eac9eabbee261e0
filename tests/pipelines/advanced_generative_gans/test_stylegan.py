"""StyleGAN's pieces: demodulation from its equation (unit norm per output channel), the
grouped modulated conv against a per-sample loop, mapping, noise, mixing and truncation."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from dl_roadmap.pipelines.advanced_generative_gans.stylegan import (
    MappingNetwork, ModulatedConv2d, NoiseInjection, StyleGenerator, demodulate, pixel_norm,
)


def test_demodulated_weights_have_unit_norm_per_output_channel() -> None:
    weight = torch.randn(6, 4, 3, 3)
    styles = torch.rand(5, 4) * 3
    norms = demodulate(weight, styles, eps=0.0).pow(2).sum(dim=(2, 3, 4)).sqrt()
    assert torch.allclose(norms, torch.ones(5, 6), atol=1e-6)


def test_demodulation_is_the_equation() -> None:
    """w'' = s_i w_ijk / sqrt(sum_{i,k} (s_i w_ijk)^2 + eps), written out with loops."""
    weight, styles, eps = torch.randn(2, 3, 1, 1), torch.rand(1, 3) + 0.5, 1e-8
    out = demodulate(weight, styles, eps)
    for j in range(2):
        modulated = [styles[0, i] * weight[j, i, 0, 0] for i in range(3)]
        norm = (sum(m**2 for m in modulated) + eps) ** 0.5
        for i in range(3):
            assert float(out[0, j, i, 0, 0]) == pytest.approx(float(modulated[i] / norm), rel=1e-5)


def test_grouped_modulated_conv_equals_one_conv_per_sample() -> None:
    conv = ModulatedConv2d(4, 6, 3, w_dim=8)
    x, w = torch.randn(3, 4, 7, 7), torch.randn(3, 8)
    out = conv(x, w)
    weights = conv.weights_for(w)
    for n in range(3):
        assert torch.allclose(out[n: n + 1], F.conv2d(x[n: n + 1], weights[n], padding=1), atol=1e-5)


def test_mapping_normalises_z_first() -> None:
    z = torch.randn(4, 16) * 10
    assert torch.allclose(pixel_norm(z).pow(2).mean(1), torch.ones(4), atol=1e-5)
    assert MappingNetwork(16, 8, 3)(z).shape == (4, 8)


def test_noise_starts_switched_off_and_adds_per_pixel_variation() -> None:
    noise = NoiseInjection(3)
    x = torch.randn(2, 3, 5, 5)
    assert torch.equal(noise(x), x)
    with torch.no_grad():
        noise.strength.fill_(1.0)
    assert not torch.equal(noise(x), x)


def test_generator_shapes_mixing_and_truncation() -> None:
    torch.manual_seed(0)
    generator = StyleGenerator(z_dim=8, w_dim=8, mapping_layers=2, channels=8).eval()
    with torch.no_grad():
        generator.w_avg.copy_(torch.randn(8))
        for layer in generator.layers:
            layer.noise.strength.fill_(0.0)
    z = torch.randn(3, 8)
    images = generator.sample(3, torch.Generator().manual_seed(0))
    assert images.shape == (3, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    # psi = 0: every z maps to w_avg, so every image is the same
    flat = generator(z, psi=0.0)
    assert torch.allclose(flat[0], flat[1], atol=1e-5)
    # mixing from layer 0 is all B's style; from the last style on, only toRGB differs
    mixed = generator(z, mix_z=z.flip(0), crossover=0)
    assert torch.allclose(mixed, generator(z.flip(0)), atol=1e-5)
    assert not torch.allclose(generator(z, mix_z=z.flip(0), crossover=3), generator(z), atol=1e-4)


def test_w_avg_tracks_the_mapping_output_while_training() -> None:
    generator = StyleGenerator(z_dim=8, w_dim=8, mapping_layers=2, channels=8, w_avg_beta=0.0)
    z = torch.randn(16, 8)
    generator.styles(z, track=True)
    assert torch.allclose(generator.w_avg, generator.mapping(z).mean(0), atol=1e-6)
