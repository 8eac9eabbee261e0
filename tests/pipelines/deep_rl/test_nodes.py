"""deep_rl: the nodes on hand-made curves, policies and attributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from dl_roadmap.pipelines.deep_rl import nodes
from dl_roadmap.pipelines.deep_rl.stages import push_right_preference

ENV = {"env_id": "CartPole-v1", "seed": 0}


class PushTowardsTheLean(nn.Module):
    """A hand-written CartPole policy: push the way the pole leans and turns (logits)."""

    observation_shape = (4,)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        lean = obs[:, 2] + obs[:, 3]
        return torch.stack([-lean, lean], dim=1)


def _curves() -> pd.DataFrame:
    rows = []
    for library, seed, returns, seconds in (("ours", 0, [100, 480, 500], 30), ("ours", 1, [50, 200, 300], 30),
                                            ("sb3", 0, [20, 100, 490], 60)):
        for i, value in enumerate(returns):
            rows.append({"algorithm": "dqn", "library": library, "seed": seed, "env_steps": 1000 * (i + 1),
                         "eval_return": value, "train_seconds": seconds * (i + 1) / 3})
    return pd.DataFrame(rows)


def test_the_comparison_counts_solved_runs_and_the_cost_per_10k_steps():
    table = nodes.comparison(_curves(), 475).set_index("library")
    assert table.loc["ours", "runs"] == 2 and table.loc["ours", "solved_runs"] == 1
    assert table.loc["ours", "steps_to_solve_mean"] == 2000 and table.loc["sb3", "steps_to_solve_mean"] == 3000
    assert table.loc["ours", "seconds_per_10k_steps_mean"] == pytest.approx(100.0)   # 30 s for 3,000 steps
    assert table.loc["sb3", "seconds_per_10k_steps_mean"] == pytest.approx(200.0)
    assert np.isnan(nodes.solved_at(_curves().query("seed == 1 and library == 'ours'"), 475))


def test_the_curves_plot_draws_every_run_and_each_library_s_mean():
    figure = nodes.curves_figure(_curves(), 475)
    assert len(figure.axes) == 1, "one panel per algorithm"
    lines = figure.axes[0].get_lines()
    assert len(lines) == 3 + 2 + 1  # three runs, the mean of ours and of SB3, the threshold
    means = {line.get_label(): line for line in lines if line.get_label().endswith(("seeds", "seed"))}
    assert set(means) == {"ours: mean of 2 seeds", "sb3: mean of 1 seed"}
    ours = _curves().query("library == 'ours'").groupby("env_steps")["eval_return"].mean()
    assert np.allclose(means["ours: mean of 2 seeds"].get_ydata(), ours.to_numpy())


def test_a_hand_written_policy_goes_through_mlflow_and_keeps_the_pole_up():
    policy = PushTowardsTheLean()
    check = nodes.mlflow_check(policy, policy, ENV, {"episodes": 2, "seed": 0, "bar": 475})
    assert check["policy"].tolist() == ["dqn", "ppo"]
    assert (check["mean_return"] > 100).all(), "a random policy lasts ~20 steps"
    assert (check["meets_bar"] == (check["mean_return"] >= 475)).all()


def test_states_come_in_episode_order_and_the_explained_value_is_the_push_right_preference():
    data = nodes.collect_states(PushTowardsTheLean(), ENV, {"episodes": 2, "seed": 0, "max_steps": 30})
    assert data["states"].shape == (60, 4) and data["states"].dtype == torch.float32
    assert data["step"][:3].tolist() == [0, 1, 2] and data["episode"][-1] == 1
    logits = torch.tensor([[0.0, 2.0], [1.0, -1.0]])
    torch.testing.assert_close(push_right_preference(logits), torch.tensor([2.0, -2.0]))


def test_the_step_plot_orders_the_explained_items_by_step():
    data = {"step": np.arange(10)}
    attributions = {"shap": np.random.default_rng(0).normal(size=(4, 4)), "indices": np.array([7, 1, 5, 3])}
    figure = nodes.explain_steps_figure(attributions, data)
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert labels == ["1", "3", "5", "7"]
