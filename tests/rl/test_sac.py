"""SAC: the tanh log-probability correction against torch and Stable-Baselines3, and one
update (twin critics, temperature, Polyak targets)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.rl.sac import SAC, squashed_log_prob, tanh_log_det

SETTINGS = dict(hidden=[16, 16], lr=1e-3, buffer_size=500, learning_starts=20, batch_size=16, tau=0.1, gamma=0.99,
                gradient_steps=1, initial_alpha=1.0)


def test_tanh_correction_matches_torch_and_sb3():
    from stable_baselines3.common.distributions import SquashedDiagGaussianDistribution
    from torch.distributions import Normal, TransformedDistribution
    from torch.distributions.transforms import TanhTransform

    torch.manual_seed(0)
    mean, log_std = torch.randn(64, 2), torch.randn(64, 2).clamp(-2, 1)
    u = mean + log_std.exp() * torch.randn(64, 2)
    u[0] = torch.tensor([6.0, -7.0])  # far in the tails, where 1 - tanh(u)^2 underflows naively
    ours = squashed_log_prob(u, mean, log_std)
    reference = TransformedDistribution(Normal(mean, log_std.exp()), [TanhTransform()]).log_prob(torch.tanh(u)).sum(-1)
    assert torch.allclose(ours[1:], reference[1:], atol=1e-4)
    assert torch.isfinite(ours).all()
    sb3 = SquashedDiagGaussianDistribution(2).proba_distribution(mean, log_std).log_prob(torch.tanh(u), u)
    # SB3 writes log(1 - tanh(u)^2 + 1e-6): the same wherever tanh(u) is not within ~1e-3 of +-1
    moderate = (u.abs() < 2.5).all(dim=1)
    assert moderate.sum() > 40 and torch.allclose(ours[moderate], sb3[moderate], atol=1e-3)
    assert tanh_log_det(torch.zeros(1, 3)).item() == pytest.approx(0.0)


def test_an_update_moves_critics_targets_and_temperature():
    agent = SAC("Pendulum-v1", SETTINGS, seed=0)
    targets = [p.clone() for p in agent.targets.parameters()]
    for _ in range(SETTINGS["learning_starts"] - 1):
        assert agent.step() == {}  # random actions, no update before learning_starts
    critics = [p.clone() for p in agent.critics.parameters()]
    metrics = agent.step()
    assert {"critic_loss", "actor_loss", "alpha"} <= set(metrics)
    for target, old_target, critic in zip(agent.targets.parameters(), targets, critics):
        # Polyak: targ <- tau * new critic + (1 - tau) * old targ
        assert not torch.equal(target, old_target)
    # alpha = exp(log alpha) moved from 1 after one Adam step of lr 1e-3
    assert agent.log_alpha.exp().item() == pytest.approx(1.0, abs=2e-3) and agent.log_alpha.item() != 0.0
    action = agent.act_for_env(np.zeros(3, np.float32))
    assert action.shape == (1,) and -2.0 <= action[0] <= 2.0
    state = agent.state_dict()
    other = SAC("Pendulum-v1", SETTINGS, seed=1)
    other.load_state_dict(state)
    assert np.allclose(other.act_for_env(np.ones(3, np.float32)), agent.act_for_env(np.ones(3, np.float32)))
