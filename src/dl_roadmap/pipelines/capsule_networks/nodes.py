"""Nodes of capsule_networks: read MNIST, score the trained CapsNet on clean and
affNIST-style test images, draw its reconstructions and what its capsule dimensions encode.
Plain functions of plain values: call them from a notebook as the pipeline does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix

from dl_roadmap.core.inference import predict
from dl_roadmap.core.plotting import confusion_matrix_figure, image_grid, training_curves
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.image.data import image_tensor, split_mnist
from dl_roadmap.image.affnist import robustness_test_sets
from dl_roadmap.image.capsules import CapsNet, parameter_count


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Seeded train/val/test splits of MNIST (the image library's split_mnist) and a summary."""
    splits, summary = split_mnist(raw, params)
    summary["class_names"] = [str(label) for label in range(10)]
    return splits, summary


def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: np.ndarray) -> float:
    """Share of images whose largest output (capsule length or logit) is the label's."""
    return float((predict(model, images, batch_size=500).argmax(1) == np.asarray(labels)).mean())


def evaluate_capsnet(
    model: CapsNet, splits: dict[str, np.ndarray], affine: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, dict[str, float]], np.ndarray]:
    """Test accuracy and error of the trained CapsNet on clean, shifted and affNIST-style
    test images, validation accuracy, and its parameter counts.

    Returns:
        The results table (metric, value), the same figures for MLflow, and the clean test
        predictions (for the confusion matrix).
    """
    values = {"val_acc": accuracy(model, image_tensor(splits, "val"), splits["val_labels"])}
    for name, images in robustness_test_sets(image_tensor(splits, "test"), affine).items():
        values[f"test_{name}_acc"] = accuracy(model, images, splits["test_labels"])
    values["test_error_percent"] = 100 * (1 - values["test_clean_acc"])
    values["parameters"] = parameter_count(model)
    values["parameters_without_decoder"] = parameter_count(model, "decoder")
    predicted = predict(model, image_tensor(splits, "test"), batch_size=500).argmax(1)
    table = pd.DataFrame([{"metric": k, "value": v} for k, v in values.items()])
    return table, metrics_for_mlflow(values), predicted


def curves_figure(history: pd.DataFrame) -> Figure:
    """Loss and accuracy per epoch, train against validation."""
    return training_curves({"capsnet": history})


def confusion_figure(predicted: np.ndarray, splits: dict[str, np.ndarray]) -> Figure:
    """Test-set confusion matrix of the CapsNet."""
    matrix = confusion_matrix(splits["test_labels"], predicted, labels=range(10))
    return confusion_matrix_figure(matrix, [str(k) for k in range(10)], title="CapsNet: MNIST test set")


def _first_of_each_class(labels: np.ndarray) -> np.ndarray:
    return np.array([int(np.flatnonzero(labels == k)[0]) for k in range(10) if (labels == k).any()])


@torch.no_grad()
def reconstructions_figure(model: CapsNet, splits: dict[str, np.ndarray]) -> Figure:
    """One test digit per class, and the decoder's drawing from the longest capsule (the
    paper's Figure 3: the predicted class's capsule alone redraws the digit)."""
    model.eval()
    index = _first_of_each_class(splits["test_labels"])
    images = image_tensor(splits, "test")[index]
    v, _ = model.capsules(images)
    size = model.image_size
    drawn = model.reconstruct(v).view(-1, 1, size, size)
    predicted = v.norm(dim=-1).argmax(1).tolist()
    return image_grid({"input": images.numpy(), "reconstruction": drawn.numpy()},
                      title="CapsNet: test digits and their reconstructions",
                      captions=[f"pred {p}" for p in predicted])


@torch.no_grad()
def perturbation_figure(model: CapsNet, splits: dict[str, np.ndarray], perturb: dict[str, Any]) -> Figure:
    """The paper's Figure 4: take the capsule of a test digit, add each of ``steps`` values in
    [-range, range] to one dimension at a time, and redraw: a row per dimension shows what
    that dimension encodes (stroke width, skew, scale, parts...)."""
    model.eval()
    index = int(_first_of_each_class(splits["test_labels"])[int(perturb["digit"])])
    image = image_tensor(splits, "test")[index : index + 1]
    v, _ = model.capsules(image)
    label = v.norm(dim=-1).argmax(1)
    offsets = torch.linspace(-float(perturb["range"]), float(perturb["range"]), int(perturb["steps"]))
    dims = model.digit_dim
    tweaked = v.repeat(dims * len(offsets), 1, 1)  # (dims * steps, classes, digit_dim)
    for d in range(dims):
        tweaked[d * len(offsets) : (d + 1) * len(offsets), label, d] += offsets.unsqueeze(1)
    size = model.image_size
    drawn = model.reconstruct(tweaked, label.repeat(len(tweaked))).view(dims, len(offsets), size, size).numpy()
    # One mosaic image (a subplot per cell would cost seconds for 16 x 11 cells).
    mosaic = drawn.transpose(0, 2, 1, 3).reshape(dims * size, len(offsets) * size)
    figure = Figure(figsize=(0.55 * len(offsets) + 1.2, 0.55 * dims + 1.0), layout="constrained")
    ax = figure.subplots()
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1)
    ax.grid(False)
    ax.set_xticks([size * (i + 0.5) for i in range(len(offsets))], [f"{o:+.2f}" for o in offsets.tolist()], fontsize=7)
    ax.set_yticks([size * (d + 0.5) for d in range(dims)], [f"dim {d}" for d in range(dims)], fontsize=7)
    ax.set(xlabel="value added to the dimension",
           title=f"Perturbing each dimension of the digit capsule (class {int(label)})")
    return figure


@torch.no_grad()
def affine_examples_figure(splits: dict[str, np.ndarray], affine: dict[str, Any]) -> Figure:
    """What the models are tested on: the same test digits clean, shifted as in training,
    and affNIST-style."""
    subset = {key: value[:10] for key, value in splits.items() if key.startswith("test_")}
    sets = robustness_test_sets(image_tensor(subset, "test"), affine)
    return image_grid({name: images.numpy() for name, images in sets.items()},
                      title="Test images: clean, shifted as in training, and under unseen affine transformations")


def log_model(model: CapsNet) -> CapsNet:
    """The trained CapsNet, handed to MLflow as a PyTorch model: input float images
    (N, 1, 28, 28) in [0, 1], output the 10 digit-capsule lengths (N, 10) in [0, 1),
    the longest being the predicted class."""
    return model.eval()
