"""Which items the explain stage explains, and the reference items SHAP integrates from.

Items come from the task's ``split`` when it has datasets (``per_class`` of each true
class when the split yields integer class targets, else ``count`` at random), else from
its ``example_inputs`` (``count`` at random). The background is the task's
``background_inputs``, else ``background`` items of the training split, else of the
example inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from dl_roadmap.core.stages.explain.target import SOFTMAX, chosen_classes, readouts
from dl_roadmap.core.stages.task import StageTask, targets_of


def pick_items(task: StageTask, data: Any, config: dict[str, Any], seed: int, where: str) -> dict[str, np.ndarray]:
    """inputs (N, *item_shape) float32, labels (-1 where unknown) and indices of the chosen items."""
    rng = np.random.default_rng(seed)
    if task.datasets is not None:
        dataset = task.splits(data)[config["split"]]
        labels = targets_of(dataset).numpy()
        if labels.ndim == 1 and np.issubdtype(labels.dtype, np.integer):
            indices = np.concatenate([
                np.sort(rng.choice(np.flatnonzero(labels == c), size=min(config["per_class"], int((labels == c).sum())),
                                   replace=False))
                for c in np.unique(labels)
            ])
            labels = labels[indices]
        else:
            indices = np.sort(rng.choice(len(dataset), size=min(config["count"], len(dataset)), replace=False))
            labels = np.full(len(indices), -1)
        inputs = torch.stack([torch.as_tensor(dataset[int(i)][0]) for i in indices])
    else:
        pool = single_input(task.inputs(data, config["split"]), where)
        indices = np.sort(rng.choice(len(pool), size=min(config["count"], len(pool)), replace=False))
        inputs, labels = pool[torch.as_tensor(indices)], np.full(len(indices), -1)
    return {"inputs": real_valued(inputs, where), "labels": labels, "indices": indices}


def predict_items(model: nn.Module, items: dict[str, np.ndarray]) -> dict[str, Any]:
    """The items with the explained class per item (``predicted``), its readout
    (``probability``: a probability, or the value itself when ``readout`` is ``value``)."""
    outputs = readouts(model, items["inputs"])
    predicted = chosen_classes(model, torch.as_tensor(items["inputs"]), outputs)
    return {**items, "predicted": predicted, "probability": outputs[np.arange(len(predicted)), predicted],
            "readout": getattr(model, "readout", SOFTMAX)}


def background_items(task: StageTask, data: Any, size: int, seed: int, where: str) -> np.ndarray:
    """The SHAP background: the task's own, or ``size`` items drawn from its training data."""
    if task.background_inputs is not None:
        return real_valued(single_input(task.background_inputs(data), where), where)
    rng = np.random.default_rng([seed, 1])  # a stream apart from the item choice's
    if task.datasets is not None:
        train = task.splits(data)["train"]
        chosen = rng.choice(len(train), size=min(size, len(train)), replace=False)
        return torch.stack([torch.as_tensor(train[int(i)][0]) for i in chosen]).float().numpy()
    pool = single_input(task.inputs(data, "train"), where)
    chosen = rng.choice(len(pool), size=min(size, len(pool)), replace=False)
    return real_valued(pool[torch.as_tensor(chosen)], where)


def single_input(inputs: Any, where: str) -> torch.Tensor:
    batch = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if len(batch) != 1:
        raise ValueError(f"{where}: the explain stage explains a model over one tensor input; "
                         f"the task gives {len(batch)} inputs per call")
    return batch[0]


def real_valued(inputs: torch.Tensor | np.ndarray, where: str) -> np.ndarray:
    tensor = torch.as_tensor(inputs)
    if not tensor.is_floating_point():
        raise ValueError(f"{where}: attributions need real-valued inputs (gradients flow through them); got "
                         f"{tensor.dtype}. Explain a model over embeddings or features, not over integer ids.")
    return tensor.float().numpy()
