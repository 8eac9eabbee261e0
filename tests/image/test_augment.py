"""Tests for dl_roadmap.image.augment: batch-level augmentations and corruptions."""

from __future__ import annotations

import pytest
import torch

from dl_roadmap.image.augment import corrupt, random_affine


@pytest.fixture
def images() -> torch.Tensor:
    """A small batch of grey images in [0, 1] with some structure (not a constant)."""
    generator = torch.Generator().manual_seed(0)
    return torch.rand(4, 1, 12, 12, generator=generator)


def test_random_affine_keeps_shape_and_dtype_and_changes_the_images(images):
    """The default transform moves pixels but keeps (N, C, H, W) and dtype."""
    torch.manual_seed(0)
    out = random_affine(images)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert not torch.allclose(out, images, atol=1e-3)


def test_random_affine_with_zero_ranges_is_the_identity(images):
    """degrees = translate = scale = 0 reproduces the input."""
    out = random_affine(images, degrees=0.0, translate=0.0, scale=0.0)
    torch.testing.assert_close(out, images, atol=1e-5, rtol=0)


def test_random_affine_draws_a_transform_per_image():
    """Copies of one image come out differently transformed."""
    torch.manual_seed(0)
    image = torch.zeros(1, 1, 12, 12)
    image[..., 3:6, 4:9] = 1.0
    out = random_affine(image.repeat(3, 1, 1, 1), degrees=30.0, translate=0.2, scale=0.2)
    assert not torch.allclose(out[0], out[1], atol=1e-3)
    assert not torch.allclose(out[1], out[2], atol=1e-3)


def test_mask_corruption_zeroes_about_level_of_the_pixels():
    """``mask`` at level 0.3 zeroes ~30% of pixels and leaves the others unchanged."""
    torch.manual_seed(0)
    images = torch.full((2, 1, 32, 32), 0.7)
    out = corrupt(images, "mask", 0.3)
    zeroed = (out == 0).float().mean().item()
    assert zeroed == pytest.approx(0.3, abs=0.03)
    kept = out != 0
    assert torch.equal(out[kept], images[kept])


def test_gaussian_corruption_adds_noise_of_std_level_and_stays_in_unit_range():
    """``gaussian`` adds noise of std ``level`` and clips the result to [0, 1]."""
    torch.manual_seed(0)
    images = torch.full((2, 1, 32, 32), 0.5)
    out = corrupt(images, "gaussian", 0.1)
    assert (out - images).std().item() == pytest.approx(0.1, rel=0.1)
    saturated = corrupt(torch.rand(2, 1, 32, 32), "gaussian", 2.0)
    assert saturated.min().item() >= 0.0 and saturated.max().item() <= 1.0
    assert (saturated == 0).any() and (saturated == 1).any()  # clipping really happened


@pytest.mark.parametrize(("kind", "level"), [(None, 0.5), ("", 0.5), ("gaussian", 0.0), ("mask", -1.0)])
def test_no_corruption_returns_the_input(images, kind, level):
    """No kind, or a non-positive level, leaves the batch as it is."""
    assert corrupt(images, kind, level) is images


def test_unknown_corruption_kind_is_a_value_error(images):
    """A typo in the kind names it in the error."""
    with pytest.raises(ValueError, match="salt"):
        corrupt(images, "salt", 0.1)
