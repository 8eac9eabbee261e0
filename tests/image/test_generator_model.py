"""The MLflow generator model: seeded, shaped, checked requests; saved and loaded by MLflow."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from dl_roadmap.image.generator_model import GeneratorModel


class TinySampler(nn.Module):
    """Images whose mean brightness is the label / 10 (or noise when unconditional)."""

    def sample(self, n, generator, labels=None):
        noise = torch.rand(n, 1, 28, 28, generator=generator)
        return noise if labels is None else noise * 0 + labels.float().view(-1, 1, 1, 1) / 10


def test_rows_are_seeded_and_concatenated():
    model = GeneratorModel(TinySampler())
    images = model.predict(None, pd.DataFrame({"n": [3, 2], "seed": [0, 1]}))
    assert images.shape == (5, 1, 28, 28) and images.dtype == np.float32
    again = model.predict(None, pd.DataFrame({"n": [3], "seed": [0]}))
    np.testing.assert_array_equal(images[:3], again)
    assert not np.array_equal(images[3:5], again[:2])


def test_conditional_model_reads_the_label_and_checks_every_column():
    model = GeneratorModel(TinySampler(), conditional=True)
    images = model.predict(None, pd.DataFrame({"n": [2], "seed": [0], "label": [7]}))
    assert np.allclose(images, 0.7)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['label'\]"):
        model.predict(None, pd.DataFrame({"n": [2], "seed": [0]}))
    with pytest.raises(ValueError, match="row 1: label must be 0..9"):
        model.predict(None, pd.DataFrame({"n": [1, 1], "seed": [0, 0], "label": [1, 12]}))
    with pytest.raises(ValueError, match="row 0: n must be a whole number"):
        model.predict(None, pd.DataFrame({"n": [1.5], "seed": [0], "label": [1]}))


def test_saved_and_loaded_through_mlflow(tmp_path):
    path = tmp_path / "generator"
    mlflow.pyfunc.save_model(str(path), python_model=GeneratorModel(TinySampler()),
                             pip_requirements=["torch", "numpy", "pandas"])
    loaded = mlflow.pyfunc.load_model(str(path))
    images = loaded.predict(pd.DataFrame({"n": [4], "seed": [3]}))
    assert images.shape == (4, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
