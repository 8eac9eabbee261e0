"""PPO's maths: GAE against a hand computation, the clipped surrogate, and a short
training run on a continuous and a discrete environment."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.rl.networks import ActorCritic
from dl_roadmap.rl.ppo import PPO_DEFAULTS, clipped_surrogate, gae, train_ppo


def test_gae_matches_a_hand_computation():
    gamma, lam = 0.9, 0.8
    rewards = torch.tensor([[1.0], [0.0], [2.0]])
    values = torch.tensor([[0.5], [1.0], [0.2]])
    dones = torch.tensor([[0.0], [1.0], [0.0]])  # the episode ends after step 1
    last = torch.tensor([0.7])
    # step 2: delta = 2 + 0.9 * 0.7 - 0.2 = 2.43, A2 = 2.43
    # step 1: ends here: delta = 0 - 1.0 = -1.0, A1 = -1.0 (nothing flows back across the end)
    # step 0: delta = 1 + 0.9 * 1.0 - 0.5 = 1.4, A0 = 1.4 + 0.9 * 0.8 * (-1.0) = 0.68
    advantages, returns = gae(rewards, values, last, dones, gamma, lam)
    torch.testing.assert_close(advantages, torch.tensor([[0.68], [-1.0], [2.43]]))
    torch.testing.assert_close(returns, advantages + values)


def test_gae_with_lambda_one_is_the_discounted_return_minus_the_value():
    rewards = torch.tensor([[1.0], [1.0], [1.0]])
    values = torch.tensor([[0.3], [0.2], [0.1]])
    advantages, _ = gae(rewards, values, torch.tensor([0.0]), torch.zeros(3, 1), gamma=0.5, lam=1.0)
    torch.testing.assert_close(advantages[:, 0], torch.tensor([1.75 - 0.3, 1.5 - 0.2, 1.0 - 0.1]))


def test_the_clipped_surrogate_by_hand():
    old = torch.zeros(4)
    new = torch.log(torch.tensor([1.5, 0.5, 1.1, 0.7]))
    adv = torch.tensor([1.0, 1.0, -1.0, -1.0])
    # ratio 1.5, A>0: min(1.5, 1.2) = 1.2;  ratio 0.5, A>0: min(0.5, 0.8) = 0.5
    # ratio 1.1, A<0: min(-1.1, -1.1) = -1.1; ratio 0.7, A<0: min(-0.7, -0.8) = -0.8
    expected = -torch.tensor([1.2, 0.5, -1.1, -0.8]).mean()
    torch.testing.assert_close(clipped_surrogate(new, old, adv, 0.2), expected)


def test_the_clip_stops_the_gradient_once_the_ratio_left_the_trust_region():
    new = torch.log(torch.tensor([1.5, 1.1])).requires_grad_()
    clipped_surrogate(new, torch.zeros(2), torch.tensor([1.0, 1.0]), 0.2).backward()
    assert new.grad[0] == 0 and new.grad[1] < 0


def test_the_gaussian_log_probability_sums_over_action_dimensions():
    net = ActorCritic(3, 2, discrete=False)
    obs, actions = torch.randn(4, 3), torch.randn(4, 2)
    dist = net.distribution(obs)
    mean, std = net.actor(obs), net.log_std.exp()
    expected = torch.distributions.Normal(mean, std).log_prob(actions).sum(-1)
    torch.testing.assert_close(net.log_prob(dist, actions), expected)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_ppo_trains_on_discrete_and_continuous_actions(env_id):
    import gymnasium as gym

    torch.set_num_threads(1)
    config = {**PPO_DEFAULTS, "total_steps": 512, "n_envs": 4, "n_steps": 64, "n_epochs": 2, "batch_size": 128}
    net, result = train_ppo(lambda: gym.make(env_id), config, seed=0, name=f"ppo-{env_id}",
                            trainer={"progress_bar": False})
    history = result.history
    assert history["env_steps"].iloc[-1] == 512
    assert np.isfinite(history["policy_loss"]).all() and (history["clip_range"] <= 0.2).all()
    assert net.discrete == (env_id == "CartPole-v1")


def test_gae_matches_stable_baselines3():
    from gymnasium import spaces
    from stable_baselines3.common.buffers import RolloutBuffer

    T, N, gamma, lam = 7, 3, 0.98, 0.8
    rng = np.random.default_rng(0)
    rewards, values = rng.normal(size=(T, N)).astype(np.float32), rng.normal(size=(T, N)).astype(np.float32)
    dones = (rng.random((T, N)) < 0.25).astype(np.float32)
    last = rng.normal(size=N).astype(np.float32)
    buffer = RolloutBuffer(T, spaces.Box(-1, 1, (1,)), spaces.Discrete(2), n_envs=N, gamma=gamma, gae_lambda=lam)
    for t in range(T):
        # SB3 marks the *start* of an episode: step t starts one when step t-1 ended one
        start = dones[t - 1] if t > 0 else np.zeros(N, dtype=np.float32)
        buffer.add(np.zeros((N, 1)), np.zeros((N, 1)), rewards[t], start, torch.as_tensor(values[t]),
                   torch.zeros(N))
    buffer.compute_returns_and_advantage(torch.as_tensor(last), dones[-1])
    advantages, returns = gae(torch.as_tensor(rewards), torch.as_tensor(values), torch.as_tensor(last),
                              torch.as_tensor(dones), gamma, lam)
    np.testing.assert_allclose(advantages.numpy(), buffer.advantages, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(returns.numpy(), buffer.returns, rtol=1e-5, atol=1e-6)
