"""A scikit-learn classifier around the objective's torch training, so that
``GridSearchCV`` and ``RandomizedSearchCV`` search the very objective the Optuna samplers do.

Inputs are flattened pixels ``(N, 784)`` in [0, 1], as scikit-learn expects a 2-D ``X``.
The searched hyper-parameters are constructor arguments (scikit-learn sets them by name);
``PARAMETER_PATHS`` says where each lands in the objective's config, the same dotted paths
the tune stage's search space uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from torch.utils.data import DataLoader, TensorDataset

from dl_roadmap.core.params import with_overrides
from dl_roadmap.core.tracking import log_metrics, nested_run
from dl_roadmap.image.tasks import MLP_TASK

# estimator argument -> dotted path in the objective's config
PARAMETER_PATHS = {
    "lr": "fit.optimizer.lr",
    "weight_decay": "fit.optimizer.weight_decay",
    "dropout": "model.dropout",
    "width": "model.width",
}


def estimator_name(path: str) -> str:
    """The estimator argument for a search-space path, or a ValueError naming the path."""
    names = {dotted: name for name, dotted in PARAMETER_PATHS.items()}
    if path not in names:
        raise ValueError(
            f"search_space.{path}: the scikit-learn searches can set only {sorted(names)}; "
            "add the path to estimator.PARAMETER_PATHS"
        )
    return names[path]


class TorchMLPClassifier(ClassifierMixin, BaseEstimator):
    """The objective's MLP as a scikit-learn classifier.

    Args:
        config: the objective's config (``model`` and ``fit`` blocks); the arguments below
            that are not None replace its values.
        trainer: the shared ``trainer`` block.
        lr, weight_decay, dropout, width: the searchable hyper-parameters.
        run_name: each ``fit`` is a nested MLflow run called ``<run_name> <parameters>``
            (tagged ``search=<run_name>``) when a run is active.
    """

    def __init__(
        self,
        config: dict[str, Any] | None = None,
        trainer: dict[str, Any] | None = None,
        lr: float | None = None,
        weight_decay: float | None = None,
        dropout: float | None = None,
        width: int | None = None,
        run_name: str = "sklearn",
    ):
        self.config = config
        self.trainer = trainer
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.width = width
        self.run_name = run_name

    def searched(self) -> dict[str, Any]:
        """The hyper-parameters set on this estimator, by estimator argument."""
        return {name: getattr(self, name) for name in PARAMETER_PATHS if getattr(self, name) is not None}

    def training_config(self) -> dict[str, Any]:
        """The objective's config with this estimator's hyper-parameters in place."""
        if not self.config or "fit" not in self.config:
            raise ValueError("TorchMLPClassifier(config=...): the objective's config, with a 'fit' block")
        values = {PARAMETER_PATHS[name]: value for name, value in self.searched().items()}
        if "model.width" in values:
            values["model.width"] = int(values["model.width"])  # scipy/numpy integers -> int
        return with_overrides(self.config, values)

    def fit(self, X: np.ndarray, y: np.ndarray, eval_set: tuple[np.ndarray, np.ndarray] | None = None):
        """Train on ``(X, y)``; with ``eval_set`` the weights of the best validation epoch are
        kept, exactly as in a tune-stage trial (XGBoost's name for the same idea)."""
        config = self.training_config()
        splits = {"train": _dataset(X, y), "val": _dataset(*eval_set) if eval_set is not None else None}
        description = " ".join(f"{name}={_short(value)}" for name, value in self.searched().items())
        with nested_run(f"{self.run_name} {description}".strip(), tags={"search": self.run_name}) as run:
            if run is not None:
                import mlflow

                mlflow.log_params(self.searched())
            result = MLP_TASK.train(config, splits, None, self.trainer or {}, name="candidate")
            log_metrics({"candidate_val_acc": result.best_score})
        self.model_ = result.model
        self.best_val_score_ = result.best_score
        self.classes_ = np.arange(10)
        return self

    @torch.no_grad()
    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted digits for flattened images."""
        model = self.model_.eval()
        loader = DataLoader(TensorDataset(_images(X)), batch_size=1024)
        return torch.cat([model(images).argmax(1) for (images,) in loader]).numpy()


def _images(X: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(X, dtype=np.float32)).reshape(-1, 1, 28, 28)


def _dataset(X: np.ndarray, y: np.ndarray) -> TensorDataset:
    if len(X) != len(y):
        raise ValueError(f"TorchMLPClassifier.fit: {len(X)} images but {len(y)} labels")
    return TensorDataset(_images(X), torch.as_tensor(np.asarray(y)).long())


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
