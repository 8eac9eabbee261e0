"""Pruning: unstructured weight masks (torch.nn.utils.prune) and structured channel removal
(torch_pruning), each followed by fine-tuning in the nodes.

Unstructured pruning zeroes individual weights: the dense file keeps its size and CPU
kernels do not skip zeros, so it buys sparsity, not speed. Structured pruning removes whole
convolution channels (and the matching BatchNorm entries and next-layer inputs), so the
model really gets smaller and faster. A model without convolutions (an MLP, a policy
network) loses hidden units of its Linear layers instead.
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


def remove_conv_channels(model: nn.Module, example: torch.Tensor | tuple[torch.Tensor, ...], ratio: float) -> nn.Module:
    """A copy of ``model`` with the fraction ``ratio`` of each convolution's output channels
    removed, lowest L2 norm first. Linear layers keep their outputs (the classifier keeps its
    classes) and lose only the inputs fed by removed channels.

    Raises:
        ValueError: the model has no convolution, or its output shape would change.
    """
    if not any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules()):
        raise ValueError("structured pruning: the model has no convolution layer")
    return _pruned(model, example, ratio, lambda copy_: [m for m in copy_.modules() if isinstance(m, nn.Linear)])


def remove_linear_units(model: nn.Module, example: torch.Tensor | tuple[torch.Tensor, ...], ratio: float) -> nn.Module:
    """For a model without convolutions: a copy with the fraction ``ratio`` of each hidden
    Linear layer's output units removed (lowest L2 norm first), and the next layer's matching
    inputs. The Linear layer that runs last keeps its outputs: it makes the model's output.

    Raises:
        ValueError: the model has fewer than two Linear layers, or its output shape would change.
    """
    if sum(isinstance(m, nn.Linear) for m in model.modules()) < 2:
        raise ValueError("structured pruning: the model needs a convolution or two Linear layers (one hidden)")
    return _pruned(model, example, ratio, lambda copy_: [_last_linear(copy_, example)])


def _last_linear(model: nn.Module, example: torch.Tensor | tuple[torch.Tensor, ...]) -> nn.Module:
    """The Linear layer the forward pass calls last (found with forward hooks)."""
    called: list[nn.Module] = []
    hooks = [m.register_forward_hook(lambda module, args, out: called.append(module))
             for m in model.modules() if isinstance(m, nn.Linear)]
    try:
        with torch.no_grad():
            model(*_args(example))
    finally:
        for hook in hooks:
            hook.remove()
    return called[-1]


def _pruned(model: nn.Module, example: torch.Tensor | tuple[torch.Tensor, ...], ratio: float, ignored) -> nn.Module:
    model = copy.deepcopy(model).cpu().eval()
    inputs = _args(example)
    with torch.no_grad():
        shape_before = model(*inputs).shape
    pruner = tp.pruner.MagnitudePruner(
        model,
        inputs if len(inputs) > 1 else inputs[0],
        importance=tp.importance.MagnitudeImportance(p=2),
        pruning_ratio=float(ratio),
        ignored_layers=ignored(model),
    )
    pruner.step()
    with torch.no_grad():
        shape_after = model(*inputs).shape
    if shape_after != shape_before:  # e.g. a model whose last layer is a convolution
        raise ValueError(
            f"structured pruning changed the model's output shape {tuple(shape_before)} -> {tuple(shape_after)}"
        )
    return model


def _args(example: torch.Tensor | tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    return tuple(example) if isinstance(example, (tuple, list)) else (example,)
