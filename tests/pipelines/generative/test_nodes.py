"""generative: the nodes on random images, and the VAE as an MLflow generator model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_roadmap.pipelines.generative import figures, nodes

TRAINER = {"accelerator": "cpu", "progress_bar": False}


def fake_splits() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    data = {}
    for name, n in (("train", 64), ("val", 32), ("test", 32)):
        data[f"{name}_images"] = rng.integers(0, 255, (n, 28, 28)).astype(np.uint8)
        data[f"{name}_labels"] = rng.integers(0, 10, n)
    return data


def config(tmp_path, **model) -> dict:
    return {"model": {"hidden": [8], "latent": 2, **model},
            "fit": {"max_epochs": 1, "batch_size": 32, "seed": 0, "checkpoint_dir": str(tmp_path),
                    "optimizer": {"name": "Adam", "lr": 1e-3}, "scheduler": {"name": "none"}}}


def test_validation_and_test_images_are_binarized_once(tmp_path) -> None:
    sets = nodes.vae_datasets(fake_splits())
    test = sets["test"].tensors[0]
    assert set(test.unique().tolist()) <= {0.0, 1.0}
    assert (nodes.vae_datasets(fake_splits())["test"].tensors[0] == test).all(), "the same draw every time"
    assert sets["train"].tensors[0].unique().numel() > 2, "training images stay grey (binarized per visit)"


def test_vae_trains_and_its_bounds_tighten(tmp_path) -> None:
    splits = fake_splits()
    model, history = nodes.train_vae(splits, config(tmp_path), TRAINER, "vae")
    assert {"train_elbo", "val_elbo", "val_rate", "val_distortion"} <= set(history.columns)
    bounds = nodes.test_bounds(model, splits, {"ks": [1, 50], "images": 16})
    assert list(bounds["estimate"]) == ["ELBO", "IWAE", "IWAE"]
    assert (bounds["nll_nats"] > 0).all()
    assert nodes.interpolations(model, splits, {"pairs": [[0, 1]], "steps": 4})
    assert figures.iwae_figure(bounds).axes and figures.manifold_figure(model, size=4).axes


def test_beta_sweep_gives_rate_and_distortion(tmp_path) -> None:
    sweep, samples = nodes.beta_sweep(fake_splits(), {"betas": [0.5, 8.0], "config": config(tmp_path)}, TRAINER)
    assert list(sweep["beta"]) == [0.5, 8.0] and (sweep["rate_nats"] >= 0).all()
    assert set(samples) == {"beta 0.5", "beta 8"}
    assert figures.rate_distortion_figure(sweep).axes


def test_the_vae_as_an_mlflow_generator_model(tmp_path) -> None:
    model, _ = nodes.train_cvae(fake_splits(), config(tmp_path), TRAINER)
    wrapped = nodes.conditional_generator_model(model)
    images = wrapped.predict(None, pd.DataFrame({"n": [3, 2], "seed": [0, 1], "label": [4, 7]}))
    assert images.shape == (5, 1, 28, 28) and images.dtype == np.float32 and 0 <= images.min() <= images.max() <= 1
    again = wrapped.predict(None, pd.DataFrame({"n": [3], "seed": [0], "label": [4]}))
    np.testing.assert_array_equal(images[:3], again)
    with pytest.raises(ValueError, match="label"):
        wrapped.predict(None, pd.DataFrame({"n": [3], "seed": [0]}))
