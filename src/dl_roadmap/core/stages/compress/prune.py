"""Pruning: unstructured weight masks (torch.nn.utils.prune) and structured channel removal
(torch_pruning), each followed by fine-tuning in the nodes.

Unstructured pruning zeroes individual weights: the dense file keeps its size and CPU
kernels do not skip zeros, so it buys sparsity, not speed. Structured pruning removes whole
convolution channels (and the matching BatchNorm entries and next-layer inputs), so the
model really gets smaller and faster.
"""

from __future__ import annotations

import copy

import torch
import torch_pruning as tp
from torch import nn
from torch.nn.utils import prune

_WEIGHTED = (nn.modules.conv._ConvNd, nn.Linear)


def _weighted_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, _WEIGHTED)]


def mask_smallest_weights(model: nn.Module, amount: float) -> nn.Module:
    """A copy of ``model`` whose conv and linear weights carry masks zeroing the fraction
    ``amount`` of smallest magnitude, ranked across all layers together (global pruning
    spares the layers whose weights matter most). The masks stay on during fine-tuning,
    so pruned weights remain zero; ``make_permanent`` removes them afterwards."""
    model = copy.deepcopy(model).cpu()
    targets = [(layer, "weight") for layer in _weighted_layers(model)]
    if not targets:
        raise ValueError("unstructured pruning: the model has no Conv or Linear layer")
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=float(amount))
    return model


def make_permanent(model: nn.Module) -> nn.Module:
    """Fold each mask into its weight and drop the pruning hooks (plain modules again)."""
    for layer in _weighted_layers(model):
        if prune.is_pruned(layer) and hasattr(layer, "weight_mask"):
            prune.remove(layer, "weight")
    return model


def sparsity(model: nn.Module) -> float:
    """Fraction of exactly-zero weights over the conv and linear layers."""
    weights = [layer.weight.detach() for layer in _weighted_layers(model)]
    total = sum(w.numel() for w in weights)
    return float(sum((w == 0).sum().item() for w in weights) / total) if total else 0.0


def remove_conv_channels(model: nn.Module, example: torch.Tensor, ratio: float) -> nn.Module:
    """A copy of ``model`` with the fraction ``ratio`` of each convolution's output channels
    removed, lowest L2 norm first. Linear layers keep their outputs (the classifier keeps its
    classes) and lose only the inputs fed by removed channels.

    Raises:
        ValueError: the model has no convolution, or its output shape would change.
    """
    model = copy.deepcopy(model).cpu().eval()
    if not any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules()):
        raise ValueError("structured pruning: the model has no convolution layer")
    with torch.no_grad():
        shape_before = model(example).shape
    pruner = tp.pruner.MagnitudePruner(
        model,
        example,
        importance=tp.importance.MagnitudeImportance(p=2),
        pruning_ratio=float(ratio),
        ignored_layers=[m for m in model.modules() if isinstance(m, nn.Linear)],
    )
    pruner.step()
    with torch.no_grad():
        shape_after = model(example).shape
    if shape_after != shape_before:  # e.g. a model whose last layer is a convolution
        raise ValueError(
            f"structured pruning changed the model's output shape {tuple(shape_before)} -> {tuple(shape_after)}"
        )
    return model
