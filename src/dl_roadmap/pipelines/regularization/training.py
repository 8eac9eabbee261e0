"""One variant's config -> a trained RegularizedMLP, through core.training.fit.

A config is the block every variant, fold, bag member and tune trial trains from::

    model: {depth: 2, width: 256, dropout: 0.0, dropconnect: 0.0, batchnorm: false, input_dropout: 0.0}
    penalty: {l1: 0.0, l2: 0.0}   # coefficients of the loss terms (penalties.py)
    weights: last                 # last | best: which epoch's weights the model keeps
    fit: {...}                    # core.training.fit parameters

``weights: best`` keeps the epoch with the best monitored validation score, which is
itself a regulariser (early stopping by checkpoint selection). Every other variant keeps
its last epoch, so that its result shows its own regulariser and not early stopping too.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.params import with_overrides
from dl_roadmap.core.training import fit
from dl_roadmap.pipelines.regularization.models import RegularizedMLP, penalized_weights
from dl_roadmap.pipelines.regularization.penalties import penalized_step

MODEL_DEFAULTS: dict[str, Any] = {
    "depth": 2, "width": 256, "dropout": 0.0, "dropconnect": 0.0, "batchnorm": False, "input_dropout": 0.0,
}
PENALTY_DEFAULTS: dict[str, Any] = {"l1": 0.0, "l2": 0.0}
CONFIG_DEFAULTS: dict[str, Any] = {"model": {}, "penalty": {}, "weights": "last", "fit": {}}
# |w| below this counts as (near) zero in the sparsity figure: about 1/30 of the typical
# initial weight of the first layer (He: std sqrt(2/784) ~ 0.05).
NEAR_ZERO = 1e-3


def checked_config(config: dict[str, Any], where: str) -> dict[str, Any]:
    """``config`` with its blocks over their defaults; an unknown key or a bad ``weights``
    value is a ValueError naming ``where`` and the key."""
    config = over_defaults(config, CONFIG_DEFAULTS, where)
    config["model"] = over_defaults(config["model"], MODEL_DEFAULTS, f"{where}.model")
    config["penalty"] = over_defaults(config["penalty"], PENALTY_DEFAULTS, f"{where}.penalty")
    if config["weights"] not in ("last", "best"):
        raise ValueError(f"{where}.weights: 'last' or 'best', got {config['weights']!r}")
    for key, value in config["penalty"].items():
        if float(value) < 0:
            raise ValueError(f"{where}.penalty.{key}: a coefficient >= 0, got {value!r}")
    return config


def variant_config(base: dict[str, Any], overrides: dict[str, Any] | None, where: str) -> dict[str, Any]:
    """The base config with a variant's ``{dotted.path: value}`` overrides, checked."""
    return checked_config(with_overrides(base, overrides or {}), where)


def build_mlp(config: dict[str, Any], base: Any = None) -> RegularizedMLP:
    """StageTask builder: the config's MLP, initialised from the config's fit seed."""
    del base  # nothing pretrained
    model = over_defaults(config.get("model"), MODEL_DEFAULTS, "model")
    return RegularizedMLP(**model, seed=int(config.get("fit", {}).get("seed", 0)))


def step_for(config: dict[str, Any]) -> Any:
    """StageTask step factory: cross-entropy plus the config's L1/L2 terms."""
    penalty = over_defaults(config.get("penalty"), PENALTY_DEFAULTS, "penalty")
    return partial(penalized_step, l1=float(penalty["l1"]), l2=float(penalty["l2"]))


def train_config(
    config: dict[str, Any], train: Dataset, val: Dataset, *, name: str, trainer: dict[str, Any]
) -> tuple[nn.Module, pd.DataFrame]:
    """Train the config's MLP on ``train`` (validation curves on ``val``); returns the model
    with the weights the config asks for and the per-epoch history."""
    fit_params = {**config["fit"], "restore_best": config["weights"] == "best"}
    result = fit(build_mlp(config), train, val, step=step_for(config), name=name,
                 fit_params=fit_params, trainer_params=trainer)
    return result.model, result.history


def accuracy(model: nn.Module, images: torch.Tensor, labels: np.ndarray, device: torch.device | str = "cpu") -> float:
    """Share of ``images`` classified as ``labels`` (model in eval mode)."""
    return classification_scores(model, images, labels, device)["acc"]


@torch.no_grad()
def weight_statistics(model: nn.Module) -> dict[str, float]:
    """Size of the penalised weights: ``weight_l2`` = sqrt(sum w^2), ``weight_l1`` =
    sum |w|, and ``near_zero_share``, the share with |w| < NEAR_ZERO (what L1 raises)."""
    weights = torch.cat([w.flatten() for w in penalized_weights(model)])
    return {
        "weight_l2": float(weights.norm()),
        "weight_l1": float(weights.abs().sum()),
        "near_zero_share": float((weights.abs() < NEAR_ZERO).float().mean()),
    }
