"""The flows' maths: every layer and whole flows invert to 1e-5, and each log-determinant
equals log|det J| of autograd's Jacobian (torch.autograd.functional.jacobian) on a small input."""

from __future__ import annotations

import math

import pytest
import torch
from torch.autograd.functional import jacobian

from dl_roadmap.pipelines.advanced_generative.flows import (
    ActNorm, AffineCoupling, ImageFlow, Invertible1x1Conv, LogitTransform, Squeeze, dequantize, glow, realnvp,
)
from dl_roadmap.pipelines.advanced_generative.toy import grid_log_density, point_flow

SHAPE = (4, 4, 4)  # (C, H, W): 64 dimensions, a 64 x 64 Jacobian


def _perturb(module: torch.nn.Module, seed: int = 0, scale: float = 0.3) -> torch.nn.Module:
    """Random weights everywhere (zero-initialised last layers would make couplings the identity)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            if "log_s" in name or "lower" in name or "upper" in name:
                parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype))
            else:
                parameter.copy_(scale * torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype))
    return module.double()


def _jacobian_logdet(layer, x: torch.Tensor) -> tuple[float, float]:
    """(layer's logdet, log|det| of autograd's Jacobian) for one sample x (1, C, H, W)."""
    with torch.no_grad():
        _, logdet = layer(x)
    matrix = jacobian(lambda v: layer(v.view_as(x))[0].flatten(), x.flatten(), vectorize=True)
    return float(logdet[0]), float(torch.linalg.slogdet(matrix)[1])


LAYERS = {
    "checkerboard coupling (tanh)": lambda: AffineCoupling(4, 4, 4, 8, "checkerboard", parity=1),
    "channel coupling (tanh), parity 0": lambda: AffineCoupling(4, 4, 4, 8, "channel", parity=0),
    "channel coupling (sigmoid), parity 1": lambda: AffineCoupling(4, 4, 4, 8, "channel", parity=1, scale="sigmoid"),
    "odd channels coupling": lambda: AffineCoupling(3, 4, 4, 8, "channel", parity=1),
    "actnorm": lambda: ActNorm(4),
    "1x1 conv, LU": lambda: Invertible1x1Conv(4, lu=True, seed=0),
    "1x1 conv, plain + slogdet": lambda: Invertible1x1Conv(4, lu=False, seed=0),
    "squeeze": lambda: Squeeze(),
}


@pytest.mark.parametrize("name", LAYERS)
def test_each_layer_inverts_and_its_logdet_is_the_jacobians(name: str) -> None:
    layer = _perturb(LAYERS[name]())
    channels = 3 if "odd" in name else 4
    x = torch.randn(5, channels, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y, _ = layer(x)
    assert torch.allclose(layer.inverse(y), x, atol=1e-5)
    ours, autograd = _jacobian_logdet(layer, x[:1])
    assert ours == pytest.approx(autograd, abs=1e-6)


def test_actnorm_data_dependent_init_gives_unit_variance_outputs() -> None:
    norm = ActNorm(3)
    x = 5 + 3 * torch.randn(64, 3, 6, 6)
    y, _ = norm(x)
    assert torch.allclose(y.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(y.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3)
    assert bool(norm.initialized), "the second batch uses the learned parameters"


def test_lu_weight_matches_its_slogdet() -> None:
    conv = _perturb(Invertible1x1Conv(6, lu=True, seed=3))
    assert float(conv.log_abs_det()) == pytest.approx(float(torch.linalg.slogdet(conv.matrix())[1]), abs=1e-10)


def test_logit_transform_logdet_is_the_jacobians() -> None:
    logit = LogitTransform(alpha=0.05).double()
    y = torch.rand(1, 1, 3, 3, dtype=torch.float64)
    ours, autograd = _jacobian_logdet(logit, y)
    assert ours == pytest.approx(autograd, abs=1e-8)
    assert torch.allclose(logit.inverse(logit(y)[0]), y, atol=1e-10)


@pytest.mark.parametrize("build", [lambda: realnvp(SHAPE, hidden=8, scales=2, couplings=2),
                                   lambda: glow(SHAPE, hidden=8, levels=2, steps=2, lu=True),
                                   lambda: glow(SHAPE, hidden=8, levels=1, steps=2, lu=False)],
                         ids=["realnvp", "glow LU", "glow plain"])
def test_whole_flows_round_trip_and_logdet(build) -> None:
    flow = _perturb(build())
    x = torch.randn(4, *SHAPE, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    z, _ = flow(x)
    assert z.shape == (4, math.prod(SHAPE))
    assert (flow.inverse(z) - x).abs().max() < 1e-5, "x -> z -> x"
    ours, autograd = _jacobian_logdet(flow, x[:1])
    assert ours == pytest.approx(autograd, abs=1e-6)


@torch.no_grad()
def test_round_trip_in_float32_on_mnist_shapes() -> None:
    """Weights of a trained model's size (std 0.05), float32, the pixels' whole round trip."""
    model = ImageFlow(_perturb(glow((1, 28, 28), hidden=8, levels=2, steps=2), scale=0.05).float())
    y = dequantize(torch.randint(0, 256, (3, 1, 28, 28)), torch.Generator().manual_seed(0))
    x, _ = model.logit(y)
    z, _ = model.flow(x)
    assert (model.flow.inverse(z) - x).abs().max() < 1e-4
    assert (model.logit.inverse(model.flow.inverse(z)) - y).abs().max() < 1e-5, "pixels back to 1e-5"


def test_bits_per_dim_of_the_identity_flow_is_the_logit_gaussians() -> None:
    """A flow with no layers: bits/dim is N(0, I) on the logits, pixel units (-log 256 per dim)."""
    model = ImageFlow(realnvp((1, 2, 2), hidden=4, scales=1, couplings=0), alpha=0.05)
    y = torch.full((1, 1, 2, 2), 0.5)
    expected = -(4 * (-0.5 * math.log(2 * math.pi)) + 4 * math.log(0.9 / 0.25)) + 4 * math.log(256)
    assert float(model.nll_nats(y)) == pytest.approx(expected, rel=1e-6)
    assert float(model.bits_per_dim(y)) == pytest.approx(expected / (4 * math.log(2)), rel=1e-6)


def test_dequantized_pixels_stay_in_their_bins() -> None:
    pixels = torch.arange(256).view(1, 1, 16, 16)
    y = dequantize(pixels, torch.Generator().manual_seed(0))
    assert torch.equal(torch.floor(y * 256).long(), pixels)


def test_samples_are_images_in_the_unit_interval() -> None:
    model = ImageFlow(glow((1, 28, 28), hidden=8, levels=2, steps=1))
    model.log_prob(torch.rand(8, 1, 28, 28))  # actnorm init
    images = model.sample(5, torch.Generator().manual_seed(0), temperature=0.7)
    assert images.shape == (5, 1, 28, 28) and images.min() >= 0 and images.max() <= 1


def test_the_point_flow_is_a_density() -> None:
    flow = _perturb(point_flow(hidden=8, couplings=4), scale=0.1).float()
    with torch.no_grad():
        flow.log_prob(torch.randn(256, 2, 1, 1))  # actnorm's data-dependent init, not from the grid
    _, mass = grid_log_density(flow, limit=8.0, points=200)
    assert mass == pytest.approx(1.0, abs=0.05)


@torch.no_grad()
def test_an_overflowing_inverse_gives_saturated_pixels_not_nan() -> None:
    """A coupling with scale sigmoid(-98) divides by ~1e-43 on the way back: the logits overflow."""
    model = ImageFlow(glow((1, 28, 28), hidden=4, levels=1, steps=1))
    model.log_prob(torch.rand(8, 1, 28, 28))
    coupling = model.flow.layers[-1]
    coupling.net.net[-1].bias[: coupling.net.net[-1].bias.numel() // 2] = -100.0
    generator = torch.Generator().manual_seed(0)
    assert model.overflow_share(4, generator) > 0
    images = model.sample(4, torch.Generator().manual_seed(0))
    assert torch.isfinite(images).all() and images.min() >= 0 and images.max() <= 1
