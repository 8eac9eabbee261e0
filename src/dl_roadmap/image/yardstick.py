"""One yardstick for every image generator: a classifier trained once on real images, and
three ways of comparing generated images with real ones in its eyes.

Inception weights (the usual FID network) cannot be had offline, so the features are the
penultimate layer of a small CNN trained here on the same data set: "FID on MNIST features".
The figures are comparable between generators scored by the same yardstick, not with
published FIDs on Inception features.

1. **Fréchet distance** between Gaussians fitted to real and generated features
   (Heusel et al. 2017)::

       FID = |mu_r - mu_g|^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2))

2. **Class coverage**: the share of samples the classifier puts in each class, and its mean
   confidence (max softmax). A collapsed generator covers few classes; blurry samples
   get low confidence.

3. **Precision and recall of distributions** (Kynkäänniemi et al. 2019): each point's
   k-th nearest-neighbour distance within its own set is the radius of a ball around it;
   the union of the real balls approximates the real manifold. Precision = share of
   generated points inside the real manifold (fidelity); recall = share of real points
   inside the generated manifold (diversity)::

       precision = mean_g [ exists r: |g - r| <= NN_k(r, R) ]
       recall    = mean_r [ exists g: |r - g| <= NN_k(g, G) ]

   Read the two together: a few real outliers have wide balls, so even a tight cluster of
   noise can land inside the real manifold (shuffled pixels score precision about 0.4 against
   3,000 real MNIST images), but such a cluster covers none of the real images (recall 0).

``reference_rows`` gives the scale: real training images scored against the real test
images (the best a generator can do at this sample count) and shuffled-pixel noise (each
real image's pixels permuted: the right intensities, no shapes).

    stick = Yardstick.fit(splits, params["yardstick"], params["trainer"])
    stick.score(samples, name="DCGAN")   # samples (n, 28, 28) or (n, 1, 28, 28) in [0, 1]
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from pydantic import Field, PositiveInt
from scipy import linalg
from torch import nn

from dl_roadmap.core.files import atomic_write
from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.schema import Block, schema_problems
from dl_roadmap.image.cnn import SmallCNN

logger = logging.getLogger(__name__)

YARDSTICK_DEFAULTS: dict[str, Any] = {
    "cache_dir": "data/06_models/yardstick",  # the classifier is trained once per data set and config
    "reference_size": 5000,                   # real test images the samples are compared with
    "k": 3,                                   # the k of the k-NN radii (Kynkäänniemi et al. use 3)
    "train_limit": None,                      # training images for the classifier (null = all)
    "model": {"channels": [32, 64], "hidden": 128, "dropout": 0.3},
    "fit": {"max_epochs": 3, "batch_size": 128, "early_stopping_patience": None, "monitor": "val_acc", "mode": "max"},
}
COLUMNS = ["model", "n", "fid", "precision", "recall", "mean_confidence", "classes_covered", "share_min", "share_max"]


class YardstickModel(Block):
    channels: list[PositiveInt] = Field(min_length=1)
    hidden: PositiveInt
    dropout: float = Field(ge=0.0, lt=1.0)


class YardstickParams(Block):
    """The shared ``yardstick`` parameter block (conf/base/parameters_yardstick.yml)."""

    cache_dir: str
    reference_size: PositiveInt
    k: PositiveInt
    train_limit: PositiveInt | None = None
    model: YardstickModel
    fit: dict[str, Any]  # core.training.fit checks it


def yardstick_config(params: dict[str, Any] | None) -> dict[str, Any]:
    """``params`` over YARDSTICK_DEFAULTS, checked; a bad key names itself."""
    config = over_defaults(params, YARDSTICK_DEFAULTS, "yardstick")
    problems = schema_problems(YardstickParams, config, "yardstick")
    if problems:
        raise ValueError("yardstick parameters failed their schema:\n" + "\n".join(f"- {p}" for p in problems))
    return config


def as_images(samples: Any, who: str = "samples") -> torch.Tensor:
    """Numpy or torch images (n, 28, 28) or (n, 1, 28, 28) in [0, 1] -> float (n, 1, 28, 28);
    anything else is an error that says what arrived."""
    images = torch.as_tensor(np.asarray(samples) if not isinstance(samples, torch.Tensor) else samples).float()
    if images.ndim == 3:
        images = images.unsqueeze(1)
    if images.ndim != 4 or images.shape[1] != 1 or len(images) == 0:
        raise ValueError(f"{who}: expected images (n, 28, 28) or (n, 1, 28, 28) with n > 0, got {tuple(images.shape)}")
    if not torch.isfinite(images).all():
        raise ValueError(f"{who}: {int((~torch.isfinite(images)).sum())} pixel values are NaN or infinite")
    low, high = float(images.min()), float(images.max())
    if low < -1e-4 or high > 1 + 1e-4:
        raise ValueError(f"{who}: pixels must lie in [0, 1], got values from {low:.3f} to {high:.3f}")
    return images.clamp(0.0, 1.0)


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """FID between two feature sets (rows are samples), from the formula in the docstring."""
    mu_r, mu_g = real.mean(0), fake.mean(0)
    # Dead ReLU units make both covariances singular; a 1e-6 ridge (as pytorch-fid adds when it
    # must) keeps the square root defined and moves FID by far less than its sampling noise.
    ridge = 1e-6 * np.eye(real.shape[1])
    cov_r, cov_g = np.cov(real, rowvar=False) + ridge, np.cov(fake, rowvar=False) + ridge
    root = linalg.sqrtm(cov_r @ cov_g)
    root = np.real(root)  # rounding leaves tiny imaginary parts
    return float(np.sum((mu_r - mu_g) ** 2) + np.trace(cov_r) + np.trace(cov_g) - 2.0 * np.trace(root))


def knn_radii(points: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each point to its k-th nearest neighbour in the same set (itself excluded)."""
    if len(points) <= k:
        raise ValueError(f"precision/recall: need more than k={k} points, got {len(points)}")
    radii = []
    for chunk in points.split(1024):
        distances = torch.cdist(chunk, points)
        radii.append(distances.kthvalue(k + 1, dim=1).values)  # the 1st is the point itself (0)
    return torch.cat(radii)


def manifold_coverage(queries: torch.Tensor, support: torch.Tensor, radii: torch.Tensor) -> float:
    """Share of ``queries`` inside at least one ball (``support[i]``, ``radii[i]``)."""
    inside = []
    for chunk in queries.split(1024):
        inside.append((torch.cdist(chunk, support) <= radii[None, :]).any(dim=1))
    return float(torch.cat(inside).float().mean())


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Kynkäänniemi et al. 2019's improved precision and recall (see the module docstring)."""
    real_t, fake_t = torch.as_tensor(real, dtype=torch.float32), torch.as_tensor(fake, dtype=torch.float32)
    precision = manifold_coverage(fake_t, real_t, knn_radii(real_t, k))
    recall = manifold_coverage(real_t, fake_t, knn_radii(fake_t, k))
    return precision, recall


def class_coverage(probabilities: np.ndarray) -> dict[str, Any]:
    """Share of samples per predicted class, classes that get at least half their fair share
    (0.5 / classes), and the mean max-softmax confidence."""
    classes = probabilities.shape[1]
    shares = np.bincount(probabilities.argmax(1), minlength=classes) / len(probabilities)
    return {
        "mean_confidence": float(probabilities.max(1).mean()),
        "classes_covered": int((shares >= 0.5 / classes).sum()),
        "share_min": float(shares.min()),
        "share_max": float(shares.max()),
        "class_shares": [round(float(s), 4) for s in shares],
    }


@dataclass
class Yardstick:
    """A trained classifier and the real reference set's features."""

    classifier: SmallCNN
    reference_images: torch.Tensor
    real_pool: torch.Tensor       # real training images, uint8 (n, 28, 28): the real-vs-real reference row
    k: int
    test_accuracy: float

    @classmethod
    def fit(cls, splits: dict[str, np.ndarray], params: dict[str, Any] | None = None,
            trainer_params: dict[str, Any] | None = None) -> Yardstick:
        """Train (or load the cached) classifier on ``splits`` (``image.data.split_mnist``)."""
        from dl_roadmap.image.data import image_tensor, labelled_split

        config = yardstick_config(params)
        train = labelled_split(splits, "train")
        if config["train_limit"]:
            train = torch.utils.data.Subset(train, range(min(int(config["train_limit"]), len(train))))
        classes = int(max(splits["train_labels"].max(), splits["test_labels"].max())) + 1
        cache = Path(config["cache_dir"]) / f"classifier-{_fingerprint(splits, config)}.pt"
        model = SmallCNN(**config["model"], classes=classes, seed=0)
        if cache.exists():
            model.load_state_dict(torch.load(cache, map_location="cpu", weights_only=True))
            logger.info("yardstick: classifier loaded from %s", cache)
        else:
            from dl_roadmap.core.training import fit
            from dl_roadmap.image.classification import classification_step

            model = fit(model, train, labelled_split(splits, "val"), step=classification_step, name="yardstick",
                        fit_params=config["fit"], trainer_params=trainer_params).model
            cache.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(cache) as tmp:
                torch.save(model.state_dict(), tmp)
            logger.info("yardstick: classifier trained and cached at %s", cache)
        model.eval()
        test = labelled_split(splits, "test")
        accuracy = classification_scores(model, test.tensors[0], test.tensors[1])["acc"]
        reference = image_tensor(splits, "test")[: int(config["reference_size"])]
        # kept as uint8: only the n images a reference row draws become floats
        pool = torch.from_numpy(splits["train_images"])
        return cls(model, reference, pool, int(config["k"]), float(accuracy))

    def features(self, images: Any) -> np.ndarray:
        """Penultimate-layer features (after the hidden layer's ReLU), (n, hidden)."""
        body = nn.Sequential(self.classifier.features, *self.classifier.head[:3])
        with torch.no_grad():
            return torch.cat([body(batch) for batch in as_images(images).split(1024)]).numpy()

    def probabilities(self, images: Any) -> np.ndarray:
        with torch.no_grad():
            logits = torch.cat([self.classifier(batch) for batch in as_images(images).split(1024)])
        return torch.softmax(logits, dim=1).numpy()

    def score(self, samples: Any, name: str) -> dict[str, Any]:
        """Every yardstick figure of ``samples`` against the real reference images."""
        images = as_images(samples, who=f"yardstick samples of {name!r}")
        real, fake = self.features(self.reference_images), self.features(images)
        precision, recall = precision_recall(real, fake, self.k)
        return {"model": name, "n": len(images), "fid": frechet_distance(real, fake),
                "precision": precision, "recall": recall, **class_coverage(self.probabilities(images))}

    def reference_rows(self, n: int) -> list[dict[str, Any]]:
        """The scale at ``n`` samples: real training images, and their pixels shuffled."""
        generator = torch.Generator().manual_seed(0)
        chosen = self.real_pool[torch.randperm(len(self.real_pool), generator=generator)[:n]]
        real = chosen.float().div_(255).unsqueeze(1)  # as image.data.image_tensor
        flat = real.flatten(1)
        order = torch.argsort(torch.rand(flat.shape, generator=generator), dim=1)
        shuffled = torch.gather(flat, 1, order).view_as(real)
        return [self.score(real, "reference: real images"), self.score(shuffled, "reference: shuffled pixels")]


def yardstick_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per scored set of images; ``class_shares`` as a readable string column."""
    table = pd.DataFrame(rows)
    if "class_shares" in table:
        table["class_shares"] = table["class_shares"].map(lambda s: " ".join(f"{v:.2f}" for v in s))
    return table[[c for c in COLUMNS if c in table] + [c for c in table if c not in COLUMNS]]


def plot_yardstick(table: pd.DataFrame, title: str = "Yardstick") -> Figure:
    """FID (lower is better) beside precision and recall (higher is better), one bar per row."""
    figure = Figure(figsize=(11, 0.45 * len(table) + 1.8))
    left, right = figure.subplots(1, 2, sharey=True)
    names = table["model"].tolist()
    y = np.arange(len(names))
    left.barh(y, table["fid"], color="tab:red")
    left.set_yticks(y, names)
    left.invert_yaxis()
    left.set_xlabel("FID on classifier features (lower is better)")
    right.barh(y - 0.2, table["precision"], height=0.4, label="precision")
    right.barh(y + 0.2, table["recall"], height=0.4, label="recall")
    right.set_xlim(0, 1)
    right.set_xlabel("precision / recall (higher is better)")
    right.legend(loc="lower right")
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def _fingerprint(splits: dict[str, np.ndarray], config: dict[str, Any]) -> str:
    """Same data and same settings -> same cached classifier; anything else trains anew."""
    digest = hashlib.sha256(json.dumps({k: v for k, v in config.items() if k not in ("cache_dir", "reference_size", "k")},
                                       sort_keys=True, default=str).encode())
    for key in ("train_images", "train_labels", "val_labels"):
        digest.update(np.ascontiguousarray(splits[key]).tobytes())
    return digest.hexdigest()[:16]
