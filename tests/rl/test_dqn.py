"""DQN's maths: the (double) TD target by hand, the epsilon schedule, the dueling head's
aggregation, the replay buffer, and a short training run that learns."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.rl.dqn import DQN_DEFAULTS, epsilon_at, td_target, train_dqn
from dl_roadmap.rl.networks import QNetwork
from dl_roadmap.rl.replay import ReplayBuffer


def test_double_dqn_target_lets_the_online_network_choose_and_the_target_network_value():
    rewards, dones = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 1.0])
    online = torch.tensor([[1.0, 3.0, 2.0], [5.0, 0.0, 0.0]])   # argmax: action 1, then action 0
    target = torch.tensor([[10.0, 4.0, 20.0], [7.0, 8.0, 9.0]])
    double = td_target(rewards, dones, online, target, gamma=0.9, double=True)
    # row 0: 1 + 0.9 * target[0, argmax online = 1] = 1 + 0.9 * 4; row 1 is terminal: r only
    torch.testing.assert_close(double, torch.tensor([1.0 + 0.9 * 4.0, 0.5]))
    plain = td_target(rewards, dones, online, target, gamma=0.9, double=False)
    torch.testing.assert_close(plain, torch.tensor([1.0 + 0.9 * 20.0, 0.5]))  # max over the target network


def test_epsilon_falls_linearly_then_stays():
    assert epsilon_at(0, 1000, 0.1, 1.0, 0.05) == 1.0
    assert epsilon_at(50, 1000, 0.1, 1.0, 0.05) == pytest.approx(0.525)
    assert epsilon_at(100, 1000, 0.1, 1.0, 0.05) == pytest.approx(0.05)
    assert epsilon_at(900, 1000, 0.1, 1.0, 0.05) == pytest.approx(0.05)


def test_the_dueling_head_is_value_plus_centred_advantage():
    torch.manual_seed(0)
    net = QNetwork((4,), 3, hidden=(8, 8), dueling=True)
    obs = torch.randn(5, 4)
    h = net.torso(obs)
    v, a = net.value(h), net.advantage(h)
    torch.testing.assert_close(net(obs), v + a - a.mean(1, keepdim=True))
    # the advantage stream's mean is removed, so Q's mean over actions is V
    torch.testing.assert_close(net(obs).mean(1, keepdim=True), v)


def test_the_minatar_torso_reads_channels_last_grids():
    net = QNetwork((10, 10, 4), 6, hidden=(128,), dueling=True)
    assert net(torch.zeros(2, 10, 10, 4)).shape == (2, 6)


def test_the_replay_buffer_overwrites_the_oldest_and_samples_what_was_stored():
    buffer = ReplayBuffer(3, (2,), seed=0)
    for i in range(5):
        obs = np.full((1, 2), i, dtype=np.float32)
        buffer.add(obs, np.array([i]), np.array([float(i)]), obs + 1, np.array([0.0]))
    assert len(buffer) == 3 and sorted(buffer.actions.tolist()) == [2, 3, 4]
    batch = buffer.sample(16)
    assert set(batch["actions"].tolist()) <= {2, 3, 4}
    torch.testing.assert_close(batch["next_obs"][:, 0], batch["obs"][:, 0] + 1)
    torch.testing.assert_close(batch["rewards"], batch["actions"].float())


def test_unknown_parameters_are_refused_by_name():
    with pytest.raises(ValueError, match="unknown keys \\['learning_rat'\\]"):
        train_dqn(lambda: None, {"learning_rat": 1e-3}, seed=0, name="x")


def test_a_short_dqn_run_learns_and_anneals_epsilon():
    import gymnasium as gym

    torch.set_num_threads(1)
    config = {**DQN_DEFAULTS, "total_steps": 2000, "iteration_steps": 500, "learning_starts": 500,
              "train_freq": 100, "gradient_steps": 10, "exploration_fraction": 0.3, "hidden": [32, 32]}
    q, result = train_dqn(lambda: gym.make("CartPole-v1"), config, seed=0, name="dqn-test",
                          trainer={"progress_bar": False})
    history = result.history
    assert history["env_steps"].iloc[-1] == 2000
    assert history["loss"].notna().any() and history["epsilon"].iloc[-1] == pytest.approx(0.04)
    assert q(torch.zeros(1, 4)).shape == (1, 2)
