"""Moving-MNIST generation and the two video models on a few clips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.image import moving_mnist
from dl_roadmap.pipelines.vision_transformers_video.models import DividedBlock, FrameAveragingCNN, VideoTransformer

CLIP = {"digits": 2, "frames": 20, "canvas": 64, "speed": 3.0}


@pytest.fixture
def digits() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(1, 256, (30, 28, 28)).astype(np.uint8), rng.integers(0, 10, 30)


def test_paths_bounce_inside_the_canvas_at_constant_speed() -> None:
    paths = moving_mnist.bouncing_paths(np.random.default_rng(1), 200, 2, 40, 64, 3.0)
    assert paths.shape == (200, 2, 40, 2)
    assert paths.min() >= 0 and paths.max() <= 64 - 28
    steps = np.linalg.norm(np.diff(paths, axis=2), axis=-1)
    assert steps.max() <= 3.0 + 1e-9, "a bounce folds the step, never lengthens it"
    assert np.isclose(np.median(steps), 3.0), "between bounces the speed is constant"


def test_recipes_are_seeded_and_the_label_is_the_change_in_distance(digits) -> None:
    images, labels = digits
    first, again = (moving_mnist.generate(images, labels, CLIP, 50, seed=3) for _ in range(2))
    assert np.array_equal(first["paths"], again["paths"]) and np.array_equal(first["digit_index"], again["digit_index"])
    assert np.array_equal(first["digit_labels"], labels[first["digit_index"]])
    reversed_paths = first["paths"][:, :, ::-1]
    distance = np.linalg.norm(first["paths"][:, 0] - first["paths"][:, 1], axis=-1)
    unchanged = distance[:, 0] == distance[:, -1]
    flipped = moving_mnist.approaching(reversed_paths)
    assert np.array_equal(flipped[~unchanged], 1 - first["approaching"][~unchanged]), "backwards swaps the answer"
    assert 0.2 < first["approaching"].mean() < 0.8


def test_render_pastes_the_brighter_pixel_of_each_digit(digits) -> None:
    images, labels = digits
    recipe = moving_mnist.generate(images, labels, CLIP, 4, seed=0)
    video = moving_mnist.render(images, recipe, frame_stride=2)
    assert video.shape == (4, 10, 64, 64) and video.dtype == np.uint8
    x, y = np.rint(recipe["paths"][0, 0, 0]).astype(int)
    assert (video[0, 0, y:y + 28, x:x + 28] >= images[recipe["digit_index"][0, 0]]).all()
    assert video[0, 0].max() == max(images[i].max() for i in recipe["digit_index"][0])


def test_a_canvas_smaller_than_a_digit_is_refused() -> None:
    with pytest.raises(ValueError, match="canvas"):
        moving_mnist.bouncing_paths(np.random.default_rng(0), 1, 2, 5, 20, 1.0)


def test_time_attention_mixes_frames_only_at_the_same_patch_position() -> None:
    block = DividedBlock(dim=8, heads=2, mlp_dim=16).eval()
    z = torch.randn(1, 5, 4, 8)
    changed = z.clone()
    changed[0, 0, 0] += torch.randn(8)  # one token: frame 0, patch 0 (not a constant: LayerNorm removes those)
    with torch.no_grad():
        after_time = lambda x: x + block.time(block.norm_time(x).transpose(1, 2).reshape(4, 5, 8)).view(1, 4, 5, 8).transpose(1, 2)  # noqa: E731
        difference = (after_time(changed) - after_time(z)).abs().sum(-1)[0]
    assert (difference[:, 0] > 1e-3).all(), "every frame of patch 0 sees the change"
    assert (difference[:, 1:] == 0).all(), "no other patch position does"


def test_only_the_transformer_can_tell_a_clip_from_its_reverse() -> None:
    clips = torch.rand(3, 6, 32, 32)
    backwards = clips.flip(1)
    cnn = FrameAveragingCNN(channels=[4, 8], hidden=8, stem=2, image_size=32, seed=0).eval()
    transformer = VideoTransformer(frames=6, image_size=32, patch_size=8, dim=16, depth=2, heads=2, mlp_dim=16,
                                   seed=0).eval()
    with torch.no_grad():
        assert torch.allclose(cnn(clips), cnn(backwards), atol=1e-6), "the mean over frames forgets their order"
        assert not torch.allclose(transformer(clips), transformer(backwards), atol=1e-4)
        assert transformer(clips).shape == (3, 2)
