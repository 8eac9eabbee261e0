"""Proximal Policy Optimization (Schulman et al. 2017) with generalized advantage
estimation (Schulman et al. 2016), one algorithm in one file.

Rollout: ``n_envs`` copies of the environment (``gymnasium.vector``) each take ``n_steps``
steps with the current policy pi_old, storing s_t, a_t, r_t, log pi_old(a_t|s_t), V(s_t).

GAE (an episode that ended at t stops the sums; a time-limit cut adds gamma * V(s_final)
to r_t, as if the episode went on):

    delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t)
    A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}
    R_t     = A_t + V(s_t)                                  (the value target)

Then ``n_epochs`` passes over the rollout in minibatches of ``batch_size``, each minimising

    ratio_t = pi(a_t|s_t) / pi_old(a_t|s_t)
    A_hat   = (A_t - mean(A)) / (std(A) + 1e-8)            (advantage normalisation, per minibatch)
    L_clip  = -mean( min(ratio_t * A_hat, clip(ratio_t, 1 - eps, 1 + eps) * A_hat) )
    L       = L_clip + vf_coef * mean((V(s_t) - R_t)^2) - ent_coef * mean(H[pi(.|s_t)])

with the gradient norm clipped to ``max_grad_norm``. The clip keeps the new policy near the
one that collected the data: once a ratio leaves [1 - eps, 1 + eps] in the direction the
advantage favours, its gradient is zero. ``lr_schedule``/``clip_schedule: linear`` anneal
the learning rate and eps to 0 over the run (the RL Zoo's ``lin_`` values). Discrete
actions use a categorical policy, continuous ones a diagonal Gaussian (actions clipped to
the action space in the environment, not in the log-probability, as SB3 does).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from dl_roadmap.rl.networks import ActorCritic

PPO_DEFAULTS: dict[str, Any] = {
    "total_steps": 100_000, "n_envs": 8, "n_steps": 32, "batch_size": 256, "n_epochs": 20,
    "gamma": 0.98, "gae_lambda": 0.8, "learning_rate": 1.0e-3, "lr_schedule": "linear",
    "clip_range": 0.2, "clip_schedule": "linear", "ent_coef": 0.0, "vf_coef": 0.5, "max_grad_norm": 0.5,
    "normalize_advantage": True, "hidden": [64, 64], "log_std_init": 0.0, "rollouts_per_iteration": 1,
}


def gae(rewards: torch.Tensor, values: torch.Tensor, last_values: torch.Tensor, dones: torch.Tensor,
        gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and value targets of a rollout.

    Args:
        rewards, values, dones: (T, N); ``dones[t]`` = the episode ended after step t.
        last_values: (N,) V of the observation after the last step.

    Returns:
        (advantages, returns), each (T, N), returns = advantages + values.
    """
    steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(last_values)
    for t in reversed(range(steps)):
        next_value = last_values if t == steps - 1 else values[t + 1]
        alive = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * alive - values[t]
        running = delta + gamma * lam * alive * running
        advantages[t] = running
    return advantages, advantages + values


def clipped_surrogate(new_log_prob: torch.Tensor, old_log_prob: torch.Tensor, advantages: torch.Tensor,
                      clip: float) -> torch.Tensor:
    """L_clip = -mean(min(ratio * A, clip(ratio, 1 - clip, 1 + clip) * A))."""
    ratio = torch.exp(new_log_prob - old_log_prob)
    return -torch.min(ratio * advantages, ratio.clamp(1.0 - clip, 1.0 + clip) * advantages).mean()


class PPOAgent:
    """The actor-critic, its optimizer, the vector environment and the step counter."""

    def __init__(self, make_env: Callable[[], Any], config: dict[str, Any], seed: int):
        import gymnasium as gym

        self.config = c = {**PPO_DEFAULTS, **config}
        self.envs = gym.vector.SyncVectorEnv([make_env for _ in range(int(c["n_envs"]))],
                                             autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
        obs_space, action_space = self.envs.single_observation_space, self.envs.single_action_space
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        action_dim = int(action_space.n) if self.discrete else int(np.prod(action_space.shape))
        torch.manual_seed(seed)  # the initial weights follow the run's seed, not what ran before in the process
        self.net = ActorCritic(int(np.prod(obs_space.shape)), action_dim, self.discrete, c["hidden"],
                               c["log_std_init"])
        self.low = None if self.discrete else action_space.low
        self.high = None if self.discrete else action_space.high
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=c["learning_rate"], eps=1e-5)
        self.obs, _ = self.envs.reset(seed=seed)
        self.steps, self.train_seconds = 0, 0.0
        self.episode_returns = np.zeros(self.envs.num_envs)
        self.finished: list[float] = []

    def progress_left(self) -> float:
        """1 at the start of training, 0 at the end (SB3's progress_remaining)."""
        return max(0.0, 1.0 - self.steps / float(self.config["total_steps"]))

    def collect(self) -> dict[str, torch.Tensor]:
        """One rollout of n_steps x n_envs transitions, with advantages and returns."""
        c, n = self.config, self.envs.num_envs
        T = int(c["n_steps"])
        obs_buf = torch.zeros((T, n, *self.envs.single_observation_space.shape))
        act_buf = torch.zeros((T, n), dtype=torch.long) if self.discrete else \
            torch.zeros((T, n, *self.envs.single_action_space.shape))
        logp_buf, val_buf, rew_buf, done_buf = (torch.zeros((T, n)) for _ in range(4))
        for t in range(T):
            obs = torch.as_tensor(self.obs, dtype=torch.float32)
            with torch.no_grad():
                dist = self.net.distribution(obs)
                action = dist.sample()
                logp_buf[t], val_buf[t] = self.net.log_prob(dist, action), self.net.value(obs)
            env_action = action.numpy() if self.discrete else np.clip(action.numpy(), self.low, self.high)
            next_obs, rewards, terminated, truncated, info = self.envs.step(env_action)
            self._track(np.asarray(rewards, dtype=np.float64), terminated | truncated)
            rewards = np.asarray(rewards, dtype=np.float32).copy()
            for i in np.flatnonzero(truncated & ~terminated):  # time limit: bootstrap from the real last state
                with torch.no_grad():
                    final = torch.as_tensor(np.asarray(info["final_obs"][i], dtype=np.float32))[None]
                    rewards[i] += c["gamma"] * float(self.net.value(final)[0])
            ended = terminated | truncated
            obs_buf[t], act_buf[t] = obs, action
            rew_buf[t], done_buf[t] = torch.as_tensor(rewards), torch.as_tensor(ended, dtype=torch.float32)
            self.obs = next_obs
            self.steps += n
        with torch.no_grad():
            last_values = self.net.value(torch.as_tensor(self.obs, dtype=torch.float32))
        advantages, returns = gae(rew_buf, val_buf, last_values, done_buf, c["gamma"], c["gae_lambda"])
        flat = lambda x: x.reshape(T * n, *x.shape[2:])  # noqa: E731
        return {"obs": flat(obs_buf), "actions": flat(act_buf), "log_probs": flat(logp_buf),
                "advantages": flat(advantages), "returns": flat(returns), "values": flat(val_buf)}

    def _track(self, rewards: np.ndarray, ended: np.ndarray) -> None:
        """Undiscounted episode returns, from the environment's own rewards (not the
        bootstrapped ones the learner sees)."""
        self.episode_returns += rewards
        for i in np.flatnonzero(ended):
            self.finished.append(float(self.episode_returns[i]))
            self.episode_returns[i] = 0.0

    def learn(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """n_epochs of minibatch steps on the PPO loss over one rollout."""
        c = self.config
        left = self.progress_left()
        lr = c["learning_rate"] * (left if c["lr_schedule"] == "linear" else 1.0)
        clip = c["clip_range"] * (left if c["clip_schedule"] == "linear" else 1.0)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        size = batch["obs"].shape[0]
        stats: dict[str, list[float]] = {"policy_loss": [], "value_loss": [], "entropy": [], "clip_fraction": [],
                                         "approx_kl": []}
        for _ in range(int(c["n_epochs"])):
            order = torch.randperm(size)
            for start in range(0, size, int(c["batch_size"])):
                idx = order[start:start + int(c["batch_size"])]
                dist = self.net.distribution(batch["obs"][idx])
                new_logp = self.net.log_prob(dist, batch["actions"][idx])
                adv = batch["advantages"][idx]
                if c["normalize_advantage"] and len(idx) > 1:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                policy_loss = clipped_surrogate(new_logp, batch["log_probs"][idx], adv, clip)
                value_loss = ((self.net.value(batch["obs"][idx]) - batch["returns"][idx]) ** 2).mean()
                entropy = self.net.entropy(dist).mean()
                loss = policy_loss + c["vf_coef"] * value_loss - c["ent_coef"] * entropy
                self.optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.net.parameters(), c["max_grad_norm"])
                self.optimizer.step()
                with torch.no_grad():
                    log_ratio = new_logp - batch["log_probs"][idx]
                    stats["approx_kl"].append(float(((log_ratio.exp() - 1) - log_ratio).mean()))
                    stats["clip_fraction"].append(float(((log_ratio.exp() - 1).abs() > clip).float().mean()))
                stats["policy_loss"].append(float(policy_loss.detach()))
                stats["value_loss"].append(float(value_loss.detach()))
                stats["entropy"].append(float(entropy.detach()))
        return {k: float(np.mean(v)) for k, v in stats.items()} | {"learning_rate": lr, "clip_range": clip}

    def run(self) -> dict[str, float]:
        """``rollouts_per_iteration`` rounds of collect-then-learn."""
        started = time.perf_counter()
        for _ in range(int(self.config["rollouts_per_iteration"])):
            stats = self.learn(self.collect())
        self.train_seconds += time.perf_counter() - started
        out = {"env_steps": float(self.steps), "train_seconds": self.train_seconds, **stats}
        if self.finished:
            out["episode_return"] = float(np.mean(self.finished))
            self.finished = []
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict(), "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])


def train_ppo(make_env: Callable[[], Any], config: dict[str, Any], *, seed: int, name: str,
              evaluate: Callable[[nn.Module], float] | None = None, eval_every: int = 10,
              trainer: dict[str, Any] | None = None,
              report: Callable[[float, int], None] | None = None) -> tuple[ActorCritic, Any]:
    """Train PPO for ``config["total_steps"]`` env steps through the core loop; one
    iteration = ``rollouts_per_iteration`` rollouts. Same contract as ``dqn.train_dqn``:
    returns the actor-critic with the best evaluation return and the loop's result."""
    from dl_roadmap.core.loop import run_loop

    unknown = sorted(set(config) - set(PPO_DEFAULTS))
    if unknown:
        raise ValueError(f"ppo parameters: unknown keys {unknown}; known: {sorted(PPO_DEFAULTS)}")
    agent = PPOAgent(make_env, config, seed)
    c = agent.config
    per_iteration = int(c["n_envs"]) * int(c["n_steps"]) * int(c["rollouts_per_iteration"])
    iterations = max(1, int(np.ceil(int(c["total_steps"]) / per_iteration)))

    def evaluation(state: PPOAgent, context) -> dict[str, float]:
        value = float(evaluate(state.net.eval()))
        state.net.train()
        if report is not None:
            report(value, state.steps)
        return {"eval_return": value}

    loop = {"max_iterations": iterations, "seed": seed, "log_every": 1, "eval_every": eval_every,
            "checkpoint_every": None, "monitor": "eval_return" if evaluate else None, "mode": "max"}
    result = run_loop(agent, lambda state, context: state.run(), name=name, loop_params=loop,
                      trainer_params=trainer, evaluate=evaluation if evaluate else None)
    agent.envs.close()
    return agent.net.eval(), result
