"""Judging a representation without training the encoder: the frozen-feature protocols of
the self-supervised literature, on features f(x) of a trained encoder.

- Linear probe (SimCLR, Section 4 "linear evaluation protocol"): multinomial logistic
  regression on standardised frozen features, p(y | x) = softmax(W f(x) + b), fitted by
  scikit-learn's L-BFGS with L2 penalty 1 / C; accuracy on the test images.
- kNN (Wu et al. 2018, the instance-discrimination paper): each test image takes the
  majority label of its k nearest training features by cosine similarity.
- Alignment and uniformity (``ssl_losses``) of unit features on test images: alignment
  over two random views of each image, uniformity over the clean images.
- t-SNE (scikit-learn) of the features of a few test images: a 2-D picture of the classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from dl_roadmap.core.inference import predict
from dl_roadmap.image.ssl_augment import two_views
from dl_roadmap.image.ssl_losses import alignment, uniformity


def features(encoder: nn.Module | None, images: torch.Tensor) -> np.ndarray:
    """(N, D) frozen features; ``encoder=None`` gives the raw pixels (N, 784)."""
    if encoder is None:
        return images.flatten(1).numpy()
    return predict(encoder, images, batch_size=1000)


def linear_probe(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
                 c: float = 1.0, max_iter: int = 500) -> float:
    """Test accuracy of logistic regression on standardised features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_x)
    model = LogisticRegression(C=c, max_iter=max_iter).fit(scaler.transform(train_x), train_y)
    return float((model.predict(scaler.transform(test_x)) == test_y).mean())


def knn_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, k: int = 20) -> float:
    """Test accuracy of a k-nearest-neighbour vote under cosine similarity."""
    train = train_x / np.linalg.norm(train_x, axis=1, keepdims=True).clip(1e-12)
    test = test_x / np.linalg.norm(test_x, axis=1, keepdims=True).clip(1e-12)
    classes = int(max(train_y.max(), test_y.max())) + 1
    predicted = []
    for start in range(0, len(test), 1000):
        similarity = test[start:start + 1000] @ train.T
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        votes = np.zeros((len(nearest), classes))
        np.add.at(votes, (np.repeat(np.arange(len(nearest)), k), train_y[nearest].ravel()), 1)
        predicted.append(votes.argmax(1))
    return float((np.concatenate(predicted) == test_y).mean())


def geometry(encoder: nn.Module | None, images: torch.Tensor, augment: dict[str, Any] | None, seed: int = 0) -> dict[str, float]:
    """Alignment (two random views per image) and uniformity (clean images) of unit features."""
    torch.manual_seed(seed)
    v1, v2 = two_views(images, augment)
    f1, f2 = torch.from_numpy(features(encoder, v1)), torch.from_numpy(features(encoder, v2))
    return {"alignment": alignment(f1, f2), "uniformity": uniformity(torch.from_numpy(features(encoder, images)))}


def tsne_2d(x: np.ndarray, seed: int = 0, perplexity: float = 30.0, iterations: int = 1000) -> np.ndarray:
    """A 2-D t-SNE map of standardised features (PCA to 50 dimensions first when wider)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    x = (x - x.mean(0)) / (x.std(0) + 1e-8)
    if x.shape[1] > 50:
        x = PCA(min(50, len(x)), random_state=seed).fit_transform(x)
    return TSNE(2, perplexity=min(perplexity, (len(x) - 1) / 3), init="pca", max_iter=iterations,
                random_state=seed).fit_transform(x)
