"""REINFORCE estimators and A2C: returns-to-go, the per-episode gradients, one update of each."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.rl.policy_gradients import (ActorCritic, Episodes, PGTrainer, discounted_to_go, episode_weights,
                                            make_vector_env, per_episode_gradients, sample_episodes, surrogate)

SETTINGS = dict(env_id="CartPole-v1", gamma=0.9, lr=0.01, value_lr=0.01, value_steps=2, episodes_per_update=4,
                a2c=dict(lanes=4, steps=8, lr=0.003, gae_lambda=0.95, value_coef=0.5, entropy_coef=0.01,
                         max_grad_norm=0.5))


def test_returns_to_go_and_weights():
    assert discounted_to_go(np.array([1.0, 1.0, 1.0]), 0.5) == pytest.approx([1.75, 1.5, 1.0])
    batch = Episodes(np.zeros((5, 4), np.float32), np.zeros(5, int), np.array([1.0, 1.0, 2.0, 0.0, 1.0]),
                     np.array([0, 2, 5]))
    total, _ = episode_weights(batch, "reinforce", 1.0)
    to_go, _ = episode_weights(batch, "reward_to_go", 1.0)
    based, _ = episode_weights(batch, "baseline", 1.0, values=np.ones(5))
    assert total.tolist() == [2, 2, 3, 3, 3] and to_go.tolist() == [2, 1, 3, 1, 1]
    assert based.tolist() == [1, 0, 2, 0, 0]
    assert batch.returns.tolist() == [2.0, 3.0]


def test_sampled_episodes_are_whole_and_one_per_lane():
    torch.manual_seed(0)
    agent = ActorCritic(4, 2, [8])
    batch = sample_episodes(agent, make_vector_env("CartPole-v1", 6), 6, seed=1)
    assert len(batch.starts) == 7 and (batch.rewards == 1.0).all()  # CartPole: +1 every step
    assert (np.diff(batch.starts) >= 8).all()  # a pole falls after 8 steps at the earliest


def test_per_episode_gradients_average_to_the_batch_gradient():
    torch.manual_seed(0)
    agent = ActorCritic(4, 2, [8])
    batch = sample_episodes(agent, make_vector_env("CartPole-v1", 5), 5, seed=2)
    grads = per_episode_gradients(agent, batch, 0.9)
    weights, _ = episode_weights(batch, "reward_to_go", 0.9)
    loss = surrogate(agent, torch.as_tensor(batch.observations), torch.as_tensor(batch.actions),
                     torch.as_tensor(weights, dtype=torch.float32), 5)
    flat = torch.cat([g.reshape(-1) for g in torch.autograd.grad(-loss, list(agent.policy.parameters()))]).numpy()
    assert grads["reward_to_go"].mean(0) == pytest.approx(flat, rel=1e-4, abs=1e-5)
    assert set(grads) == {"reinforce", "reward_to_go", "baseline"}


@pytest.mark.parametrize("method", ["reinforce", "baseline", "a2c"])
def test_one_update_changes_the_policy_and_round_trips(method):
    torch.manual_seed(0)
    trainer = PGTrainer(method, ActorCritic(4, 2, [8]), {**SETTINGS, "snapshot_update": 1}, seed=0)
    before = [p.clone() for p in trainer.agent.policy.parameters()]
    metrics = trainer.update()
    assert metrics["env_steps"] > 0 and trainer.snapshot is not None and len(trainer.curve) == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.agent.policy.parameters()))
    other = PGTrainer(method, ActorCritic(4, 2, [8]), SETTINGS, seed=1)
    other.load_state_dict(trainer.state_dict())
    assert torch.equal(other.agent.policy[0].weight, trainer.agent.policy[0].weight) and other.updates == 1
    with pytest.raises(ValueError, match="unknown 'ppo'"):
        PGTrainer("ppo", ActorCritic(4, 2, [8]), SETTINGS, seed=0)
