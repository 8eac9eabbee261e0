"""A trained policy as an MLflow pyfunc model: observations in, one deterministic action per row.

    model = mlflow.pyfunc.load_model("runs:/<run>/<name>")
    model.predict(observations)   # (N, observation width) floats, ndarray or DataFrame
    -> discrete:   int64 array (N,)          the greedy action index (argmax of the module's output)
    -> continuous: float32 array (N, action)  the module's output (the mean action, already in
                                              the environment's units)

The wrapped ``policy_module`` maps a float tensor (N, *observation_shape) to
- discrete actions: one score per action (logits, Q-values or action probabilities), or
- continuous actions: the deterministic action itself (e.g. SAC's ``tanh(mu)`` rescaled).

``PolicyModel.act(observation)`` is the same rule for one observation, the ``act_fn`` that
``evaluate_policy`` and ``record_episode`` expect.
"""

from __future__ import annotations

import math
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import torch
from torch import nn


def observation_shape_of(module: nn.Module) -> tuple[int, ...]:
    """The module's ``observation_shape`` attribute, else the input width of its first
    ``nn.Linear`` (an MLP on flat observations)."""
    declared = getattr(module, "observation_shape", None)
    if declared is not None:
        return tuple(int(s) for s in declared)
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            return (int(layer.in_features),)
    raise ValueError(f"PolicyModel: cannot tell the observation shape of {type(module).__name__}; "
                     "pass observation_shape=(...)")


class PolicyModel(mlflow.pyfunc.PythonModel):
    """Pyfunc wrapper of a torch policy; see the module docstring for input and output.

    ``observation_shape`` defaults to ``observation_shape_of(policy_module)``; a row of
    ``prod(observation_shape)`` numbers is reshaped to it (image observations travel flat).
    ``action_low`` / ``action_high`` clip continuous actions to the action space.
    """

    def __init__(self, policy_module: nn.Module, discrete: bool, observation_shape: tuple[int, ...] | None = None,
                 action_low: Any = None, action_high: Any = None):
        self.policy = policy_module.cpu().eval()
        self.discrete = bool(discrete)
        self.observation_shape = tuple(observation_shape) if observation_shape else observation_shape_of(policy_module)
        self.width = math.prod(self.observation_shape)
        self.action_low = None if action_low is None else np.asarray(action_low, dtype=np.float32)
        self.action_high = None if action_high is None else np.asarray(action_high, dtype=np.float32)

    def actions(self, observations: Any) -> np.ndarray:
        """(N, width) observations -> (N,) int64 actions or (N, action) float32 actions."""
        array = observations.to_numpy() if isinstance(observations, pd.DataFrame) else np.asarray(observations)
        if array.ndim == 1 and array.shape[0] == self.width:
            array = array[None]  # one observation
        if array.ndim != 2 and array.shape[1:] == self.observation_shape:
            array = array.reshape(len(array), -1)
        if array.ndim != 2 or array.shape[1] != self.width:
            raise ValueError(f"PolicyModel: expected observations of shape (N, {self.width}) (one row each, "
                             f"observation shape {self.observation_shape}), got {array.shape}")
        try:
            inputs = torch.as_tensor(array.astype(np.float32)).reshape(len(array), *self.observation_shape)
        except (TypeError, ValueError) as error:
            raise ValueError(f"PolicyModel: observations must be numbers: {error}") from error
        with torch.no_grad():
            output = self.policy(inputs)
        if self.discrete:
            return output.argmax(dim=1).numpy().astype(np.int64)
        actions = output.reshape(len(array), -1).numpy().astype(np.float32)
        if self.action_low is not None or self.action_high is not None:
            actions = np.clip(actions, self.action_low, self.action_high)
        return actions

    def act(self, observation: Any) -> Any:
        """One observation -> one action (a Python int, or a float32 vector)."""
        action = self.actions(np.asarray(observation, dtype=np.float32).reshape(1, -1))[0]
        return int(action) if self.discrete else action

    # No type hints here: MLflow would read them as an input schema.
    def predict(self, context, model_input, params=None):
        return self.actions(model_input)
