"""The capsule maths (image/capsules.py) against what the paper's equations say, values
computed by hand, and the paper's parameter count."""

from __future__ import annotations

import math

import pytest
import torch

from dl_roadmap.image.capsule_training import capsule_step
from dl_roadmap.image.capsules import CapsNet, margin_loss, parameter_count, reconstruction_loss, route, squash


def test_squash_keeps_the_direction_and_maps_the_norm_below_one() -> None:
    s = torch.randn(64, 16, dtype=torch.float64) * torch.logspace(-3, 3, 64, dtype=torch.float64)[:, None]
    v = squash(s)
    norm_s, norm_v = s.norm(dim=-1), v.norm(dim=-1)
    assert (norm_v < 1).all()
    assert torch.allclose(norm_v, norm_s**2 / (1 + norm_s**2), rtol=1e-6)
    cosine = (s * v).sum(-1) / (norm_s * norm_v)
    assert torch.allclose(cosine, torch.ones(64, dtype=torch.float64), atol=1e-9)


def test_squash_of_a_hand_computed_vector() -> None:
    # s = (3, 4): ||s|| = 5, ||v|| = 25 / 26, v = 25/26 * (0.6, 0.8).
    v = squash(torch.tensor([[3.0, 4.0]], dtype=torch.float64))
    assert torch.allclose(v, torch.tensor([[25 / 26 * 0.6, 25 / 26 * 0.8]], dtype=torch.float64))


def test_squash_of_zero_is_zero_with_a_finite_gradient() -> None:
    s = torch.zeros(2, 8, requires_grad=True)
    squash(s).sum().backward()
    assert torch.equal(squash(s.detach()), torch.zeros(2, 8))
    assert torch.isfinite(s.grad).all()


def test_coupling_coefficients_sum_to_one_over_the_parents() -> None:
    torch.manual_seed(0)
    predictions = torch.randn(4, 30, 10, 16)
    for iterations in (1, 2, 3, 5):
        v, c = route(predictions, iterations)
        assert v.shape == (4, 10, 16) and c.shape == (4, 30, 10)
        assert torch.allclose(c.sum(dim=2), torch.ones(4, 30), atol=1e-6)
        assert (v.norm(dim=-1) < 1).all()


def test_one_iteration_couples_every_child_equally() -> None:
    torch.manual_seed(0)
    predictions = torch.randn(2, 12, 5, 4)
    v, c = route(predictions, 1)
    assert torch.allclose(c, torch.full_like(c, 1 / 5))
    assert torch.allclose(v, squash(predictions.sum(1) / 5))


def test_agreement_routes_children_to_the_parent_they_agree_on() -> None:
    # Every child predicts the same pose for parent 0 and random poses for the others: the
    # agreement û·v is largest for parent 0, so its coupling grows with the iterations.
    torch.manual_seed(0)
    predictions = torch.randn(1, 50, 4, 8) * 0.5
    predictions[:, :, 0] = torch.tensor([0.3] * 8)
    shares = [route(predictions, r)[1][..., 0].mean().item() for r in (1, 2, 3)]
    assert shares[0] == pytest.approx(0.25)
    assert shares[0] < shares[1] < shares[2]


def test_routing_needs_an_iteration() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        route(torch.zeros(1, 2, 3, 4), 0)


def test_margin_loss_against_hand_computed_values() -> None:
    lengths = torch.tensor([[0.95, 0.2, 0.05], [0.5, 0.05, 0.3]], dtype=torch.float64)
    labels = torch.tensor([0, 0])
    # first: present 0.95 > 0.9 -> 0; absent 0.5 * (0.2 - 0.1)^2 = 0.005; 0.05 < 0.1 -> 0
    # second: present (0.9 - 0.5)^2 = 0.16; absent 0.5 * (0.3 - 0.1)^2 = 0.02
    expected = (0.005 + 0.18) / 2
    assert margin_loss(lengths, labels).item() == pytest.approx(expected, rel=1e-12)


def test_reconstruction_loss_is_the_sum_of_squared_errors_per_image() -> None:
    images = torch.zeros(2, 1, 2, 2)
    drawn = torch.tensor([[1.0, 0, 0, 0], [0.5, 0.5, 0, 0]])
    assert reconstruction_loss(drawn, images).item() == pytest.approx((1.0 + 0.5) / 2)


def test_the_paper_sized_capsnet_has_8_2_million_parameters() -> None:
    model = CapsNet()  # the paper's widths are the defaults
    assert model.children_count == 1152
    assert parameter_count(model) == 8_215_568  # "8.2M parameters" (Sabour et al. 2017, Section 7)
    assert parameter_count(model, "decoder") == 6_804_224  # "6.8M without the reconstruction subnetwork"


def small_capsnet(**kwargs) -> CapsNet:
    torch.manual_seed(0)
    return CapsNet(conv1_channels=8, primary_types=2, decoder_hidden=(16, 32), **kwargs)


def test_capsnet_shapes() -> None:
    model = small_capsnet()
    x = torch.rand(3, 1, 28, 28)
    lengths = model(x)
    assert lengths.shape == (3, 10) and ((lengths >= 0) & (lengths < 1)).all()
    v, c = model.capsules(x)
    assert v.shape == (3, 10, 16) and c.shape == (3, 2 * 6 * 6, 10)
    assert model.reconstruct(v).shape == (3, 784)


def test_gradients_reach_every_parameter_through_routing() -> None:
    model = small_capsnet(routing_iterations=3)
    batch = (torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3]))
    capsule_step(model.train(), batch)["loss"].backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_routing_is_differentiable_in_double_precision() -> None:
    torch.manual_seed(0)
    predictions = torch.randn(1, 4, 3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p: route(p, 3)[0], (predictions,))


def test_a_grid_too_small_for_the_kernels_fails_naming_the_sizes() -> None:
    with pytest.raises(ValueError, match="no grid"):
        CapsNet(conv1_channels=4, primary_types=1, image_size=12)


def test_squash_is_bounded_for_huge_inputs() -> None:
    v = squash(torch.full((1, 4), 1e6))
    assert math.isclose(v.norm().item(), 1.0, rel_tol=1e-6)
