"""deep_rl_mujoco: the nodes on a hand-made policy and history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from dl_roadmap.pipelines.deep_rl_mujoco import nodes

ENV = {"env_id": "InvertedPendulum-v5", "seed": 0}


class Balance(nn.Module):
    """A hand-written linear controller for the pendulum (force from angle and spin)."""

    observation_shape = (4,)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return (10.0 * obs[:, 1:2] + 1.0 * obs[:, 3:4] + 0.5 * obs[:, 0:1] + 0.5 * obs[:, 2:3]) * 5


def test_the_logged_policy_clips_to_the_action_space():
    model = nodes.log_policy(Balance(), ENV)
    actions = model.actions(np.array([[0.0, 1.0, 0.0, 1.0]], dtype=np.float32))
    assert actions.shape == (1, 1) and actions[0, 0] == 3.0


def test_the_curve_plot_marks_the_maximum_return():
    history = pd.DataFrame({"env_steps": [1000, 2000], "episode_return": [10.0, 50.0], "eval_return": [np.nan, 80.0]})
    figure = nodes.curve_figure(history, {"max_return": 1000.0})
    assert any(line.get_ydata()[0] == 1000.0 for line in figure.axes[0].get_lines())
