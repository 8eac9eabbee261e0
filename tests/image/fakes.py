"""Small MNIST-format data for tests of the image library and of the image areas."""

from __future__ import annotations

import numpy as np


def fake_mnist(n_train: int = 300, n_test: int = 50, seed: int = 0) -> dict:
    """A raw dict in the MNIST format: random uint8 images, labels cycling 0..9."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": np.arange(n_train, dtype=np.uint8) % 10,
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": np.arange(n_test, dtype=np.uint8) % 10,
        "source": "fake",
    }


def striped_splits(n_train: int = 200, n_val: int = 60, n_test: int = 50) -> dict[str, np.ndarray]:
    """Learnable fake digits: each class lights its own block of rows."""
    rng = np.random.default_rng(0)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.arange(n) % 10
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label : 2 * label + 3] = 250
        return images, labels.astype(np.uint8)

    splits = {}
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        splits[f"{split}_images"], splits[f"{split}_labels"] = make(n)
    return splits
