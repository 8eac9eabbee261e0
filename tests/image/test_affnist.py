"""The affNIST-style test set (image/affnist.py) and the training shift (image/capsule_training.py)."""

from __future__ import annotations

import torch

from dl_roadmap.image.affnist import (
    affine_test_set, apply_affine, pad_to_canvas, random_shift_set, robustness_test_sets,
)
from dl_roadmap.image.capsule_training import BaselineCNN, matched_hidden, random_shift
from dl_roadmap.image.capsules import parameter_count

SETTINGS = {"canvas": 40, "train_shift": 2, "rotation_degrees": 20, "shear": 0.2, "scale": 0.2, "shift_pixels": 6,
            "seed": 0}


def digits(n: int = 6) -> torch.Tensor:
    """Blobs inside the central 20 x 20 box, as MNIST digits are."""
    torch.manual_seed(0)
    images = torch.zeros(n, 1, 28, 28)
    images[:, :, 6:22, 8:20] = torch.rand(n, 1, 16, 12)
    return images


def test_the_identity_map_leaves_the_canvas_as_it_was() -> None:
    images = pad_to_canvas(digits(), 40)
    identity = torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]], dtype=torch.float64).expand(len(images), 2, 3)
    assert torch.allclose(apply_affine(images, identity), images, atol=1e-4)


def test_a_quarter_turn_is_rot90_and_a_whole_pixel_shift_moves_by_pixels() -> None:
    images = pad_to_canvas(digits(2), 40)
    quarter = torch.tensor([[[0.0, -1, 0], [1, 0, 0]]], dtype=torch.float64).expand(2, 2, 3)
    assert torch.allclose(apply_affine(images, quarter), torch.rot90(images, -1, (2, 3)), atol=1e-4)
    shift = torch.tensor([[[1.0, 0, 3], [0, 1, -2]]], dtype=torch.float64).expand(2, 2, 3)  # x + 3, y - 2
    assert torch.allclose(apply_affine(images, shift), torch.roll(images, (-2, 3), (2, 3)), atol=1e-4)


def test_the_affine_set_is_seeded_bounded_and_moves_every_image() -> None:
    images = digits()
    first, matrices = affine_test_set(images, 40, 20, 0.2, 0.2, 6, seed=3)
    again, _ = affine_test_set(images, 40, 20, 0.2, 0.2, 6, seed=3)
    other, _ = affine_test_set(images, 40, 20, 0.2, 0.2, 6, seed=4)
    assert first.shape == (6, 1, 40, 40) and torch.equal(first, again) and not torch.equal(first, other)
    assert first.min() >= 0 and first.max() <= 1
    assert (matrices[:, :, 2].abs() <= 6).all()
    determinants = torch.linalg.det(matrices[:, :, :2])
    assert ((determinants > 0.8**2 - 1e-9) & (determinants < 1.2**2 + 1e-9)).all()  # rotation and shear keep area
    assert not torch.allclose(first, pad_to_canvas(images, 40))


def test_the_shifted_set_moves_by_whole_pixels_within_the_bound() -> None:
    images = digits()
    shifted = random_shift_set(images, 28, 2, seed=0)
    centred = images
    for k in range(len(images)):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if torch.allclose(shifted[k], torch.roll(centred[k], (dy, dx), (1, 2)), atol=1e-4)]
        assert found, f"image {k} is not a whole-pixel shift of at most 2"


def test_the_three_test_sets_share_the_canvas() -> None:
    sets = robustness_test_sets(digits(), SETTINGS)
    assert set(sets) == {"clean", "shifted", "affine"}
    assert all(images.shape == (6, 1, 40, 40) for images in sets.values())


def test_training_shift_keeps_the_digit_and_its_mass() -> None:
    images = digits()
    torch.manual_seed(1)
    shifted = random_shift(images, 2)
    assert shifted.shape == images.shape
    assert torch.allclose(shifted.sum((1, 2, 3)), images.sum((1, 2, 3)))
    assert torch.equal(random_shift(images, 0), images)


def test_the_baseline_cnn_is_matched_to_a_parameter_count() -> None:
    hidden = matched_hidden(1_112_208, (16, 32), image_size=28)
    count = parameter_count(BaselineCNN((16, 32), hidden))
    per_unit = parameter_count(BaselineCNN((16, 32), 2)) - parameter_count(BaselineCNN((16, 32), 1))
    assert abs(count - 1_112_208) <= per_unit / 2
    assert BaselineCNN((16, 32), hidden)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
