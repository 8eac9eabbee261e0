"""Batched inference for trained modules."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


@torch.no_grad()
def predict(model: nn.Module, inputs: torch.Tensor, device: torch.device | str = "cpu", batch_size: int = 1024) -> np.ndarray:
    """Run ``model`` over ``inputs`` in eval mode, batch by batch; returns a NumPy array."""
    model = model.to(device).eval()
    outputs = [model(inputs[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(inputs), batch_size)]
    model.cpu()
    return torch.cat(outputs).numpy()
