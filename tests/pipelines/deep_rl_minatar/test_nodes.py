"""deep_rl_minatar: the environment, the grid drawing and the curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_roadmap.pipelines.deep_rl_minatar import nodes


def test_breakout_gives_the_10x10x4_grid_and_six_actions():
    env = nodes.make_minatar("Breakout")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (10, 10, 4) and obs.dtype == bool and env.action_space.n == 6
    env.close()


def test_an_unknown_game_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown MinAtar game 'Pong'"):
        nodes.make_minatar("Pong")


def test_the_grid_is_drawn_one_colour_per_channel():
    state = np.zeros((10, 10, 4), dtype=bool)
    state[0, 0, 0] = state[9, 9, 3] = True
    image = nodes.state_frame(state, scale=2)
    assert image.shape == (20, 20, 3) and image.dtype == np.uint8
    assert (image[4, 4] == 0).all(), "empty cells are black"
    assert not (image[0, 0] == image[19, 19]).all(), "two channels, two colours"


def test_the_curve_smooths_training_returns_and_keeps_the_evaluations():
    history = pd.DataFrame({"frames": [1, 2, 3], "episode_return": [0.0, 2.0, 4.0], "eval_return": [np.nan, 5.0, np.nan]})
    curve = nodes.learning_curve(history, window=2)
    assert curve["episode_return"].tolist() == [0.0, 1.0, 3.0]
    assert curve["eval_return"].iloc[1] == 5.0
