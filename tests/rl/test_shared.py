"""The shared RL pieces: environments by id, seeded evaluation, episode frames, PolicyModel."""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from torch import nn

from dl_roadmap.rl.envs import check_env_id, make_env
from dl_roadmap.rl.evaluate import evaluate_policy
from dl_roadmap.rl.policy_model import PolicyModel
from dl_roadmap.rl.video import record_episode


def test_unknown_env_id_names_the_key_and_close_ids():
    with pytest.raises(ValueError, match=r"rl\.env_id: unknown Gymnasium environment 'CartPol-v1'.*CartPole-v1"):
        check_env_id("CartPol-v1", key="rl.env_id")
    with pytest.raises(ValueError, match="Taxi-v3"):
        make_env("Taxi-v3")  # Gymnasium 1.4 only registers Taxi-v4
    with pytest.raises(ValueError, match="could not make 'FrozenLake-v1'"):
        make_env("FrozenLake-v1", no_such_option=1)


def test_evaluation_is_seeded_and_counts_rewards():
    always_left = lambda observation: 0  # noqa: E731
    first = evaluate_policy("CartPole-v1", always_left, episodes=3, seed=5)
    assert np.array_equal(first, evaluate_policy("CartPole-v1", always_left, episodes=3, seed=5))
    assert first.shape == (3,) and (first >= 8).all() and (first < 20).all()  # falls within a few steps
    # FrozenLake: reward 1 only at the goal; walking left from the start never gets there.
    assert evaluate_policy("FrozenLake-v1", always_left, episodes=2, seed=0, max_steps=30).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="episodes"):
        evaluate_policy("CartPole-v1", always_left, episodes=0, seed=0)


def test_record_episode_keeps_every_nth_frame_and_the_last():
    frames = record_episode("CartPole-v1", lambda observation: 0, seed=0, max_frames=100, every=3, max_side=120)
    assert all(frame.dtype == np.uint8 and frame.shape == (80, 120, 3) for frame in frames)
    steps = int(evaluate_policy("CartPole-v1", lambda observation: 0, episodes=1, seed=0)[0])  # reward 1 per step
    assert len(frames) == 1 + steps // 3 + (steps % 3 > 0)
    assert len(record_episode("FrozenLake-v1", lambda o: 1, seed=0, max_frames=2)) == 2


def test_policy_model_discrete_continuous_and_width_errors(tmp_path):
    scores = nn.Linear(4, 2)
    model = PolicyModel(scores, discrete=True)
    observations = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    actions = model.predict(None, pd.DataFrame(observations))
    assert actions.dtype == np.int64 and actions.shape == (5,)
    assert isinstance(model.act(observations[0]), int) and model.act(observations[0]) == actions[0]
    with pytest.raises(ValueError, match=r"expected observations of shape \(N, 4\).*\(5, 3\)"):
        model.predict(None, observations[:, :3])

    continuous = PolicyModel(nn.Sequential(nn.Linear(3, 1), nn.Tanh()), discrete=False,
                             action_low=[-0.5], action_high=[0.5])
    out = continuous.predict(None, observations[:, :3])
    assert out.shape == (5, 1) and out.dtype == np.float32 and np.abs(out).max() <= 0.5

    # Round trip through MLflow's pyfunc format: the loaded model gives the same actions.
    mlflow.pyfunc.save_model(str(tmp_path / "policy"), python_model=model, pip_requirements=["torch"])
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "policy"))
    assert np.array_equal(np.asarray(loaded.predict(observations)), actions)


def test_policy_model_reshapes_flat_rows_to_the_declared_shape():
    class Grid(nn.Module):
        observation_shape = (2, 3)

        def forward(self, x):
            return x.sum(dim=2)  # (N, 2) scores

    model = PolicyModel(Grid(), discrete=True)
    rows = np.array([[0, 0, 0, 1, 1, 1], [5, 5, 5, 0, 0, 0]], dtype=np.float32)
    assert model.predict(None, rows).tolist() == [1, 0]
    with pytest.raises(ValueError, match="cannot tell the observation shape"):
        PolicyModel(nn.ReLU(), discrete=True)
