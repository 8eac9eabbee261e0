"""Any trained image generator as an MLflow pyfunc model.

    model = mlflow.pyfunc.load_model("models:/<id>")       # or runs:/<run>/<area>_<model>
    model.predict(pd.DataFrame({"n": [16], "seed": [0]}))   # (16, 1, 28, 28) float32 in [0, 1]
    model.predict(pd.DataFrame({"n": [8, 8], "seed": [0, 1], "label": [3, 7]}))  # class-conditional

Each row asks for ``n`` images drawn with its own ``seed`` (the same row gives the same
images every time); rows are concatenated in order. The wrapped module only has to offer
``sample(n, generator, labels)`` returning float images in [0, 1].
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import torch
from torch import nn

MAX_IMAGES_PER_ROW = 100_000  # a typo such as n=1e9 should fail, not exhaust memory


class GeneratorModel(mlflow.pyfunc.PythonModel):
    """Pyfunc wrapper: request rows -> seeded calls of ``sampler.sample`` -> one array."""

    def __init__(self, sampler: nn.Module, conditional: bool = False, classes: int = 10):
        if not callable(getattr(sampler, "sample", None)):
            raise TypeError(f"GeneratorModel: {type(sampler).__name__} has no sample(n, generator, labels) method")
        self.sampler = sampler.cpu().eval()
        self.conditional = bool(conditional)
        self.classes = int(classes)

    # No type hints here: MLflow would read them as an input schema.
    def predict(self, context, model_input, params=None):
        requests = self._requests(model_input)
        images = []
        with torch.no_grad():
            for row, (n, seed, label) in enumerate(requests):
                generator = torch.Generator().manual_seed(seed)
                labels = torch.full((n,), label, dtype=torch.long) if self.conditional else None
                batch = self.sampler.sample(n, generator, labels).float().reshape(n, 1, 28, 28)
                if not torch.isfinite(batch).all():
                    raise RuntimeError(f"row {row}: the generator produced NaN or infinite pixels")
                images.append(batch.clamp(0.0, 1.0))
        return torch.cat(images).numpy().astype(np.float32)

    def _requests(self, model_input: Any) -> list[tuple[int, int, int]]:
        """Rows of (n, seed, label), checked; an error names the row and column."""
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        needed = ["n", "seed"] + (["label"] if self.conditional else [])
        missing = [column for column in needed if column not in frame]
        if missing:
            raise ValueError(f"generator input: missing column(s) {missing}; expected columns {needed}")
        requests = []
        for row, record in enumerate(frame.to_dict("records")):
            n, seed = _whole(record["n"], row, "n"), _whole(record["seed"], row, "seed")
            if not 1 <= n <= MAX_IMAGES_PER_ROW:
                raise ValueError(f"generator input row {row}: n must be 1..{MAX_IMAGES_PER_ROW}, got {n}")
            label = _whole(record["label"], row, "label") if self.conditional else -1
            if self.conditional and not 0 <= label < self.classes:
                raise ValueError(f"generator input row {row}: label must be 0..{self.classes - 1}, got {label}")
            requests.append((n, seed, label))
        if not requests:
            raise ValueError("generator input: no rows")
        return requests


def _whole(value: Any, row: int, column: str) -> int:
    if isinstance(value, (bool, np.bool_)) or float(value) != int(value):
        raise ValueError(f"generator input row {row}: {column} must be a whole number, got {value!r}")
    return int(value)
