"""The output the explain stage explains, whatever the model returns.

A classifier (no ``explain_output``) is explained as before: attributions of the predicted
class's logit, faithfulness read on that class's softmax probability. A task's
``explain_output(model_out)`` chooses instead, one value per output row:

- float values (N,): the model is explained through ``ChosenOutput``, which returns them as
  one column (N, 1); attributions and deletion curves read that value directly (a
  regressor's prediction, a critic's value, the log-probability of an agent's action);
- integer class indices (N,): the model's output (N, K) is kept and the chosen class of
  each item is explained (the action an agent took, a true label) instead of the argmax.

For ``nodes`` the model maps one graph's node features (V, F) to one output row per node;
``NodeView`` turns that into a batched model of one node, so the same attribution code
explains node ``i`` over all node features.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from torch import nn

VALUE = "value"  # readout of an explained value: the value itself
SOFTMAX = "softmax"  # readout of a class: its softmax probability


class ChosenOutput(nn.Module):
    """``model`` with the task's ``explain_output`` applied: (N, 1) values, or the model's own
    output when the chosen output is a class index (see the module docstring)."""

    def __init__(self, model: nn.Module, explain_output: Callable[[Any], torch.Tensor]):
        super().__init__()
        self.model, self.explain_output = model, explain_output
        self.readout = SOFTMAX

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        out = self.model(*inputs)
        chosen = torch.as_tensor(self.explain_output(out))
        if chosen.dim() != 1:
            raise ValueError(f"StageTask.explain_output must return one value or class per output row, (N,); "
                             f"got shape {tuple(chosen.shape)} from a model output of shape {tuple(out.shape)}")
        if chosen.is_floating_point():
            self.readout = VALUE
            return chosen[:, None]
        self.readout = SOFTMAX
        return out

    def classes(self, *inputs: torch.Tensor) -> torch.Tensor:
        """The chosen class per output row (class mode), or zeros (value mode: one column)."""
        chosen = torch.as_tensor(self.explain_output(self.model(*inputs)))
        return torch.zeros(len(chosen), dtype=torch.long) if chosen.is_floating_point() else chosen.long()


class NodeView(nn.Module):
    """Node ``node`` of a graph model as a batched model: (B, V, F) graphs -> (B, K) rows."""

    def __init__(self, model: nn.Module, node: int):
        super().__init__()
        self.model, self.node = model, int(node)

    @property
    def readout(self) -> str:
        return getattr(self.model, "readout", SOFTMAX)

    def forward(self, graphs: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.model(graph)[self.node] for graph in graphs])


def explained_model(model: nn.Module, explain_output: Callable[[Any], torch.Tensor] | None) -> nn.Module:
    """The model as the stage explains it: as it is for a classifier, else ``ChosenOutput``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"explain: the model input is a {type(model).__name__}, not a torch nn.Module")
    return model if explain_output is None else ChosenOutput(model, explain_output)


def readouts(model: nn.Module, inputs: np.ndarray | torch.Tensor, batch_size: int = 512) -> np.ndarray:
    """What the deletion curves read, (N, K): softmax of a classifier's logits, or the chosen
    values (N, 1) of a ``ChosenOutput`` in value mode; evaluated batch by batch in eval mode."""
    model.eval()
    inputs = torch.as_tensor(inputs, dtype=torch.float32)
    with torch.no_grad():
        outputs = torch.cat([model(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)])
    if outputs.ndim != 2:
        raise ValueError("the explain stage needs a model returning logits (N, classes), or StageTask.explain_output "
                         f"choosing one value or class per row; got shape {tuple(outputs.shape)}")
    if getattr(model, "readout", SOFTMAX) == VALUE:
        return outputs.double().numpy()
    return torch.softmax(outputs.double(), dim=1).numpy()


def chosen_classes(model: nn.Module, inputs: torch.Tensor, outputs: np.ndarray) -> np.ndarray:
    """The class explained per item: the task's choice, else the largest readout."""
    if isinstance(model, ChosenOutput):
        with torch.no_grad():
            return model.classes(inputs).numpy()
    if isinstance(model, NodeView) and isinstance(model.model, ChosenOutput):
        with torch.no_grad():
            return np.array([int(model.model.classes(graph)[model.node]) for graph in inputs])
    return outputs.argmax(axis=1)
