"""Penalty terms added to the loss, and the training step that adds them.

    L1:  lambda_1 * sum_i |w_i|          gradient lambda_1 * sign(w): a constant pull to 0,
                                         so small weights end at (or around) zero: sparsity
    L2:  lambda_2 / 2 * sum_i w_i^2      gradient lambda_2 * w: a pull proportional to w,
                                         every weight shrinks, none becomes exactly zero

Under SGD, the L2 gradient is the same thing as weight decay (w <- w - lr * lambda_2 * w).
Under Adam it is not: the L2 gradient goes through Adam's per-weight normalisation by
sqrt(v), while decoupled weight decay (AdamW) shrinks every weight by lr * lambda outside
it (Loshchilov & Hutter 2019); tests/pipelines/regularization checks one step by hand.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dl_roadmap.image.classification import classification_step
from dl_roadmap.pipelines.regularization.models import penalized_weights


def l1_penalty(model: nn.Module) -> torch.Tensor:
    """sum |w| over the model's Linear weights (biases and BatchNorm left out)."""
    return sum(weight.abs().sum() for weight in penalized_weights(model))


def l2_penalty(model: nn.Module) -> torch.Tensor:
    """1/2 * sum w^2 over the same weights: the 1/2 makes its gradient exactly w, so a
    coefficient lambda here equals ``weight_decay=lambda`` of torch's (coupled) Adam/SGD."""
    return 0.5 * sum(weight.pow(2).sum() for weight in penalized_weights(model))


def penalized_step(model: nn.Module, batch: Any, l1: float = 0.0, l2: float = 0.0) -> dict[str, torch.Tensor]:
    """Cross-entropy (+ l1 * L1 + l2 * L2 while training) and accuracy.

    ``loss`` is what the optimizer minimises; ``ce`` is the cross-entropy alone. On
    validation batches (model in eval mode) no penalty is added, so every variant's
    ``val_loss`` is the same quantity and early stopping watches the data term only.
    """
    out = classification_step(model, batch)
    out["ce"] = out["loss"].detach()
    if model.training and l1:
        out["loss"] = out["loss"] + float(l1) * l1_penalty(model)
    if model.training and l2:
        out["loss"] = out["loss"] + float(l2) * l2_penalty(model)
    return out
