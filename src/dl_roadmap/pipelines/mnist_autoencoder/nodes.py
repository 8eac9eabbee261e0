"""Nodes of mnist_autoencoder: autoencoder -> classifiers on its code -> evaluate -> report.

Ingest, the image tensors, the models, the steps and the classifier's StageTask are the
image library's (dl_roadmap.image); what is here is what this project does with them.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch.utils.data import TensorDataset

from dl_roadmap.core.devices import inference_device
from dl_roadmap.core.inference import predict
from dl_roadmap.core.plotting import confusion_matrix_figure, image_grid, scatter_2d, training_curves
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.augment import corrupt
from dl_roadmap.image.autoencoder import ConvAutoencoder, DigitClassifier, reconstruction_step
from dl_roadmap.image.data import image_tensor

logger = logging.getLogger(__name__)
DIGITS = [str(d) for d in range(10)]


# --- train ------------------------------------------------------------------------------


def train_autoencoder(
    splits: dict[str, np.ndarray], params: dict[str, Any], trainer: dict[str, Any]
) -> tuple[ConvAutoencoder, pd.DataFrame]:
    """Train the convolutional (denoising) autoencoder on the unlabelled training images.

    Args:
        params: ``model`` (latent_dim, channels), ``denoising`` (kind, level),
            ``augment`` (random_affine arguments or null), ``fit`` (core.training.fit).
        trainer: the shared trainer block.
    """
    model = ConvAutoencoder(**params["model"])
    step = partial(reconstruction_step, denoising=params.get("denoising"), augment=params.get("augment"))
    result = fit(
        model, TensorDataset(image_tensor(splits, "train")), TensorDataset(image_tensor(splits, "val")),
        step=step, name="autoencoder", fit_params=params["fit"], trainer_params=trainer,
    )
    return result.model, result.history


# --- classify from the code ---------------------------------------------------------------


def encode_images(autoencoder: ConvAutoencoder, splits: dict[str, np.ndarray], trainer: dict[str, Any]) -> dict[str, np.ndarray]:
    """Latent codes of every split (the autoencoder is frozen here)."""
    device = inference_device(trainer)
    codes = {f"{s}_codes": predict(autoencoder.encoder, image_tensor(splits, s), device) for s in ("train", "val", "test")}
    return {**codes, **{f"{s}_labels": splits[f"{s}_labels"] for s in ("train", "val", "test")}}


def evaluate_code_classifiers(codes: dict[str, np.ndarray], params: dict[str, Any]) -> dict[str, float]:
    """Test accuracy of a linear probe (logistic regression) and a kNN on the frozen code."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_train, y_train = codes["train_codes"], codes["train_labels"]
    x_test, y_test = codes["test_codes"], codes["test_labels"]
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=int(params["probe_max_iter"])))
    knn = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=int(params["knn_neighbors"])))
    return {
        "linear_probe_test_accuracy": float(probe.fit(x_train, y_train).score(x_test, y_test)),
        "knn_test_accuracy": float(knn.fit(x_train, y_train).score(x_test, y_test)),
    }


# --- evaluate -----------------------------------------------------------------------------


def evaluate_classifier(
    classifier: DigitClassifier, splits: dict[str, np.ndarray], trainer: dict[str, Any]
) -> tuple[dict[str, float], pd.DataFrame, np.ndarray]:
    """Accuracy, per-class precision/recall/F1 and confusion matrix on the test images.

    Returns:
        metrics, the per-class table, and the predicted digit of every test image.
    """
    from sklearn.metrics import precision_recall_fscore_support

    logits = predict(classifier, image_tensor(splits, "test"), inference_device(trainer))
    predicted, truth = logits.argmax(1), splits["test_labels"]
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=range(10), zero_division=0)
    per_class = pd.DataFrame({"digit": range(10), "precision": precision, "recall": recall, "f1": f1, "support": support})
    return {"classifier_test_accuracy": float((predicted == truth).mean())}, per_class, predicted


def confusion_figure(predicted: np.ndarray, splits: dict[str, np.ndarray]) -> Figure:
    """Confusion matrix of the fine-tuned classifier on the test images."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(splits["test_labels"], predicted, labels=range(10))
    accuracy = np.trace(matrix) / matrix.sum()
    return confusion_matrix_figure(matrix, DIGITS, f"fine-tuned classifier, test accuracy {accuracy:.2%}")


def mistakes_figure(predicted: np.ndarray, splits: dict[str, np.ndarray], params: dict[str, Any]) -> Figure:
    """The first misclassified test images, captioned 'true -> predicted'."""
    wrong = np.flatnonzero(predicted != splits["test_labels"])[: int(params["n_images"]) * 2]
    images = splits["test_images"][wrong] / 255.0
    captions = [f"{splits['test_labels'][i]} -> {predicted[i]}" for i in wrong]
    half = (len(wrong) + 1) // 2
    return image_grid(
        {"": images[:half], " ": images[half:]}, f"{np.sum(predicted != splits['test_labels'])} test mistakes",
        captions=captions[half:] if half else None,
    )


def reconstructions_figure(autoencoder: ConvAutoencoder, splits: dict[str, np.ndarray], params: dict[str, Any], ae_params: dict[str, Any]) -> Figure:
    """Test digits, their corrupted versions and the autoencoder's reconstructions."""
    torch.manual_seed(0)
    clean = image_tensor(splits, "test")[: int(params["n_images"])]
    noisy = corrupt(clean, **ae_params["denoising"]) if ae_params.get("denoising") else clean
    with torch.no_grad():
        rebuilt = torch.sigmoid(autoencoder.eval()(noisy))
        rebuilt_clean = torch.sigmoid(autoencoder(clean))
    rows = {"input": clean.numpy(), "corrupted": noisy.numpy(), "from corrupted": rebuilt.numpy(), "from input": rebuilt_clean.numpy()}
    return image_grid(rows, "autoencoder reconstructions (test images)")


def latent_space_figure(codes: dict[str, np.ndarray], params: dict[str, Any]) -> Figure:
    """2-D projection (t-SNE or PCA) of test codes, coloured by the true digit."""
    n = min(int(params["projection_points"]), len(codes["test_codes"]))
    points, labels = codes["test_codes"][:n], codes["test_labels"][:n]
    if params["projection"] == "tsne":
        from sklearn.manifold import TSNE

        flat = TSNE(n_components=2, init="pca", random_state=0, perplexity=min(30.0, (n - 1) / 3)).fit_transform(points)
    else:
        from sklearn.decomposition import PCA

        flat = PCA(n_components=2, random_state=0).fit_transform(points)
    return scatter_2d(flat, labels, f"latent space ({params['projection']}, {n} test digits)")


def curves_figure(autoencoder_history: pd.DataFrame, classifier_history: pd.DataFrame) -> Figure:
    """Per-epoch losses and metrics of both trainings."""
    return training_curves({"autoencoder": autoencoder_history, "classifier": classifier_history})


# --- report and serve --------------------------------------------------------------------


def summarize_results(
    code_metrics: dict[str, float], classifier_metrics: dict[str, float], autoencoder_history: pd.DataFrame
) -> tuple[dict[str, dict[str, float]], pd.DataFrame]:
    """Final metrics for MLflow and a results table for people."""
    metrics = {
        **code_metrics, **classifier_metrics,
        "autoencoder_best_val_mse": float(autoencoder_history["val_mse"].min()),
    }
    table = pd.DataFrame(
        [
            ("linear probe on frozen code", metrics["linear_probe_test_accuracy"]),
            ("kNN on frozen code", metrics["knn_test_accuracy"]),
            ("AE encoder fine-tuned + head", metrics["classifier_test_accuracy"]),
        ],
        columns=["model", "test_accuracy"],
    )
    return metrics_for_mlflow(metrics), table


def build_serving_model(classifier: DigitClassifier) -> Any:
    """Wrap the classifier as an MLflow pyfunc model that takes raw 28x28 images."""
    from dl_roadmap.pipelines.mnist_autoencoder.serving import DigitModel

    return DigitModel(classifier)
