"""The fine-tuned classifier as an MLflow pyfunc model that takes raw digit images.

    model = mlflow.pyfunc.load_model("models:/<id>")   # or runs:/<run>/mnist_digit_classifier
    model.predict(images)  # (N, 28, 28) or (N, 784); uint8 0-255 or float 0-1
    -> DataFrame with columns digit, prob_0 ... prob_9
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import torch
from torch import nn


def to_model_input(images: Any) -> torch.Tensor:
    """Raw images -> float (N, 1, 28, 28) in [0, 1], with a clear error for other shapes.

    Integer inputs are read as 0-255 pixels; float inputs as 0-1, unless some value
    exceeds 1, in which case they are a float copy of 0-255 pixels.
    """
    array = images.to_numpy() if isinstance(images, pd.DataFrame) else np.asarray(images)
    if array.ndim == 2 and array.shape == (28, 28):
        array = array[None]
    if array.ndim == 2 and array.shape[1] == 784:
        array = array.reshape(-1, 28, 28)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ValueError(f"expected images of shape (N, 28, 28) or (N, 784), got {array.shape}")
    pixels = array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer) or pixels.max(initial=0) > 1.0:
        pixels /= 255.0
    return torch.from_numpy(pixels).unsqueeze(1)


class DigitModel(mlflow.pyfunc.PythonModel):
    """Pyfunc wrapper: preprocessing + the torch classifier + softmax."""

    def __init__(self, classifier: nn.Module):
        self.classifier = classifier.cpu().eval()

    # No type hints here: MLflow would read them as an input schema.
    def predict(self, context, model_input, params=None):
        with torch.no_grad():
            probabilities = torch.softmax(self.classifier(to_model_input(model_input)), dim=1).numpy()
        frame = pd.DataFrame(probabilities, columns=[f"prob_{d}" for d in range(10)])
        frame.insert(0, "digit", probabilities.argmax(1))
        return frame
