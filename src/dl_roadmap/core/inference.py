"""Batched inference for trained modules."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@torch.no_grad()
def predict(model: nn.Module, inputs: torch.Tensor, device: torch.device | str = "cpu", batch_size: int = 1024) -> np.ndarray:
    """Run ``model`` over ``inputs`` in eval mode, batch by batch; returns a NumPy array."""
    model = model.to(device).eval()
    outputs = [model(inputs[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(inputs), batch_size)]
    model.cpu()
    return torch.cat(outputs).numpy()


def classification_scores(
    model: nn.Module, inputs: torch.Tensor, labels: np.ndarray | torch.Tensor, device: torch.device | str = "cpu"
) -> dict[str, float]:
    """``acc`` (accuracy) and ``loss`` (mean cross-entropy) of a classifier's logits on
    ``inputs``: any classifier of tensors (images, sequences, features), hence in core."""
    logits = torch.from_numpy(predict(model, inputs, device))
    targets = torch.as_tensor(np.asarray(labels)).long()
    return {"acc": float((logits.argmax(1) == targets).float().mean()), "loss": float(F.cross_entropy(logits, targets))}
