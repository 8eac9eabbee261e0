"""Deep Q-learning (Mnih et al. 2015) with Double DQN (van Hasselt et al. 2016) and a
dueling head (Wang et al. 2016), one algorithm in one file.

The Q-network Q_theta(s, a) is regressed on a bootstrapped target built from a *target
network* Q_theta^- (a copy of theta refreshed every ``target_update_interval`` env steps):

    DQN:         y = r + gamma * (1 - done) * max_a' Q_theta^-(s', a')
    Double DQN:  y = r + gamma * (1 - done) * Q_theta^-(s', argmax_a' Q_theta(s', a'))

Double DQN lets the online network *choose* a' and the target network *value* it, which
removes the max operator's upward bias. The loss is the Huber loss of Q_theta(s, a) - y over
a minibatch drawn uniformly from the replay buffer (``rl/replay.py``). Actions are
epsilon-greedy, epsilon falling linearly from ``epsilon_start`` to ``epsilon_end`` over the
first ``exploration_fraction`` of the run:

    epsilon(t) = epsilon_start + min(1, t / (fraction * T)) * (epsilon_end - epsilon_start)

The schedule of learning (every ``train_freq`` env steps after ``learning_starts``, do
``gradient_steps`` updates) and the names of the parameters are Stable-Baselines3's, so
the RL Zoo's tuned settings read the same here. Training goes through ``core.loop.run_loop``:
one iteration is ``iteration_steps`` env steps; an evaluation every ``eval_every``
iterations plays greedy episodes in a separate environment.
"""

from __future__ import annotations

import copy
import time
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.rl.networks import QNetwork
from dl_roadmap.rl.replay import ReplayBuffer

DQN_DEFAULTS: dict[str, Any] = {
    "total_steps": 50_000, "iteration_steps": 500, "n_envs": 1,
    "learning_rate": 2.3e-3, "optimizer": "adam",  # adam | rmsprop (MinAtar paper: centred RMSprop)
    "batch_size": 64, "buffer_size": 100_000, "learning_starts": 1000, "gamma": 0.99,
    "target_update_interval": 10, "train_freq": 256, "gradient_steps": 128,
    "exploration_fraction": 0.16, "epsilon_start": 1.0, "epsilon_end": 0.04,
    "max_grad_norm": 10.0, "hidden": [256, 256], "double": True, "dueling": True,
    "max_train_seconds": None,  # a wall-clock budget: stop acting and learning once spent
}


def epsilon_at(step: int, total_steps: int, fraction: float, start: float, end: float) -> float:
    """Linear exploration schedule: ``start`` -> ``end`` over ``fraction * total_steps``."""
    horizon = max(fraction * total_steps, 1.0)
    return start + min(1.0, step / horizon) * (end - start)


def td_target(rewards: torch.Tensor, dones: torch.Tensor, next_q_online: torch.Tensor,
              next_q_target: torch.Tensor, gamma: float, double: bool) -> torch.Tensor:
    """y = r + gamma (1 - done) Q^-(s', a*), a* = argmax Q(s', .) (double) or argmax Q^-(s', .)."""
    if double:
        best = next_q_online.argmax(dim=1, keepdim=True)          # the online network chooses
        next_value = next_q_target.gather(1, best).squeeze(1)     # the target network values
    else:
        next_value = next_q_target.max(dim=1).values
    return rewards + gamma * (1.0 - dones) * next_value


class DQNAgent:
    """Everything that changes while DQN trains: the online and target networks, the
    optimizer, the replay buffer, the environments and the step counter. ``state_dict``
    holds the networks, optimizer and counter (what ``run_loop`` keeps as the best state)."""

    def __init__(self, make_env: Callable[[], Any], config: dict[str, Any], seed: int,
                 evaluate: Callable[[nn.Module], float] | None = None):
        import gymnasium as gym

        self.config = {**DQN_DEFAULTS, **config}
        c = self.config
        self.envs = gym.vector.SyncVectorEnv([make_env for _ in range(int(c["n_envs"]))],
                                             autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
        space = self.envs.single_observation_space
        torch.manual_seed(seed)  # the initial weights follow the run's seed, not what ran before in the process
        self.q = QNetwork(space.shape, self.envs.single_action_space.n, c["hidden"], c["dueling"])
        self.target = copy.deepcopy(self.q)
        self.optimizer = make_optimizer(self.q, c)
        store = np.uint8 if space.dtype == np.bool_ else np.float32
        self.buffer = ReplayBuffer(int(c["buffer_size"]), space.shape, store, seed)
        self.obs, _ = self.envs.reset(seed=seed)
        self.envs.action_space.seed(seed)
        self.rng = np.random.default_rng(seed)
        self.steps, self.updates, self.train_seconds = 0, 0, 0.0
        self.episode_returns = np.zeros(self.envs.num_envs)
        self.finished: list[float] = []  # returns of episodes finished since the last report
        self.evaluate_fn = evaluate

    # -- acting -------------------------------------------------------------------------
    def epsilon(self) -> float:
        c = self.config
        return epsilon_at(self.steps, c["total_steps"], c["exploration_fraction"], c["epsilon_start"], c["epsilon_end"])

    def act(self) -> np.ndarray:
        """Epsilon-greedy actions for every environment (random before ``learning_starts``)."""
        n = self.envs.num_envs
        random_actions = self.envs.action_space.sample()
        if self.steps < self.config["learning_starts"]:
            return random_actions
        with torch.no_grad():
            greedy = self.q(torch.as_tensor(self.obs, dtype=torch.float32)).argmax(1).numpy()
        explore = self.rng.random(n) < self.epsilon()
        return np.where(explore, random_actions, greedy)

    # -- learning -----------------------------------------------------------------------
    def update(self) -> float:
        """One gradient step on the Huber loss of Q(s, a) against the (double) TD target."""
        c = self.config
        batch = self.buffer.sample(c["batch_size"])
        n = len(batch["actions"])
        with torch.no_grad():
            next_q_target = self.target(batch["next_obs"])
        if c["double"]:
            # One forward pass of the online network over s and s' together (per-call
            # overhead dominates at this size); s' only chooses a', so it carries no gradient.
            q_all = self.q(torch.cat([batch["obs"], batch["next_obs"]]))
            q_obs, next_q_online = q_all[:n], q_all[n:].detach()
        else:
            q_obs, next_q_online = self.q(batch["obs"]), next_q_target
        y = td_target(batch["rewards"], batch["dones"], next_q_online, next_q_target, c["gamma"], c["double"])
        q = q_obs.gather(1, batch["actions"].unsqueeze(1)).squeeze(1)
        loss = F.smooth_l1_loss(q, y)
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.q.parameters(), c["max_grad_norm"], foreach=True)
        self.optimizer.step()
        self.updates += 1
        return float(loss.detach())

    def run(self, env_steps: int) -> dict[str, float]:
        """Act for ``env_steps`` steps (all environments together), storing and learning."""
        c, n = self.config, self.envs.num_envs
        if self.out_of_time():
            return {"env_steps": float(self.steps), "epsilon": self.epsilon(), "train_seconds": self.train_seconds}
        started, losses = time.perf_counter(), []
        for _ in range(max(1, env_steps // n)):
            actions = self.act()
            next_obs, rewards, terminated, truncated, info = self.envs.step(actions)
            # SAME_STEP autoreset: next_obs of a finished env is already the new episode's
            # first observation; the real last one is in info["final_obs"].
            real_next = next_obs.copy()
            ended = terminated | truncated
            for i in np.flatnonzero(ended):
                real_next[i] = info["final_obs"][i]
            self.buffer.add(self.obs, actions, rewards, real_next, terminated.astype(np.float32))
            self.obs = next_obs
            self.episode_returns += rewards
            for i in np.flatnonzero(ended):
                self.finished.append(float(self.episode_returns[i]))
                self.episode_returns[i] = 0.0
            before = self.steps
            self.steps += n
            if self.steps > c["learning_starts"] and self.steps // c["train_freq"] > before // c["train_freq"]:
                losses += [self.update() for _ in range(int(c["gradient_steps"]))]
            if self.steps // c["target_update_interval"] > before // c["target_update_interval"]:
                self.target.load_state_dict(self.q.state_dict())
        self.train_seconds += time.perf_counter() - started
        out = {"env_steps": float(self.steps), "epsilon": self.epsilon(), "train_seconds": self.train_seconds}
        if losses:
            out["loss"] = float(np.mean(losses))
        if self.finished:
            out["episode_return"] = float(np.mean(self.finished))
            self.finished = []
        return out

    def out_of_time(self) -> bool:
        budget = self.config["max_train_seconds"]
        return budget is not None and self.train_seconds >= float(budget)

    def state_dict(self) -> dict[str, Any]:
        return {"q": self.q.state_dict(), "target": self.target.state_dict(),
                "optimizer": self.optimizer.state_dict(), "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.q.load_state_dict(state["q"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])


def make_optimizer(net: nn.Module, config: dict[str, Any]) -> torch.optim.Optimizer:
    """Adam (SB3's default), or the centred RMSprop of the MinAtar paper (alpha 0.95, eps 0.01)."""
    if config["optimizer"] == "adam":
        # foreach: one kernel per step over all parameter tensors instead of one per tensor
        return torch.optim.Adam(net.parameters(), lr=config["learning_rate"], foreach=True)
    if config["optimizer"] == "rmsprop":
        return torch.optim.RMSprop(net.parameters(), lr=config["learning_rate"], alpha=0.95, eps=0.01, centered=True,
                                   foreach=True)
    raise ValueError(f"dqn.optimizer: expected 'adam' or 'rmsprop', got {config['optimizer']!r}")


def train_dqn(make_env: Callable[[], Any], config: dict[str, Any], *, seed: int, name: str,
              evaluate: Callable[[nn.Module], float] | None = None, eval_every: int = 5,
              trainer: dict[str, Any] | None = None,
              report: Callable[[float, int], None] | None = None) -> tuple[QNetwork, Any]:
    """Train DQN for ``config["total_steps"]`` env steps through the core loop.

    Args:
        make_env: builds one environment (called ``n_envs`` times).
        config: DQN parameters over DQN_DEFAULTS.
        evaluate: greedy Q-network -> mean evaluation return (None: no evaluation).
        eval_every: iterations between evaluations.
        report: called with (evaluation return, env steps) after each evaluation (Optuna).
        ``config["max_train_seconds"]`` set, training stops once that much time was spent in
        acting and learning (the frame count reached is in the history).

    Returns:
        The Q-network with the best evaluation return (the last one without ``evaluate``)
        and the loop's result (history: env_steps, loss, epsilon, episode_return,
        eval_return, train_seconds per row).
    """
    from dl_roadmap.core.loop import run_loop

    unknown = sorted(set(config) - set(DQN_DEFAULTS))
    if unknown:
        raise ValueError(f"dqn parameters: unknown keys {unknown}; known: {sorted(DQN_DEFAULTS)}")
    agent = DQNAgent(make_env, config, seed)
    c = agent.config
    iterations = max(1, int(c["total_steps"]) // int(c["iteration_steps"]))

    def iterate(state: DQNAgent, context) -> dict[str, float]:
        return state.run(int(c["iteration_steps"]))

    evaluated: dict[int, float] = {}  # env steps -> return (a spent time budget leaves the steps unchanged)

    def evaluation(state: DQNAgent, context) -> dict[str, float]:
        if state.steps not in evaluated:
            evaluated[state.steps] = float(evaluate(state.q.eval()))
            state.q.train()
            if report is not None:
                report(evaluated[state.steps], state.steps)
        return {"eval_return": evaluated[state.steps]}

    loop = {"max_iterations": iterations, "seed": seed, "log_every": 1, "eval_every": eval_every,
            "checkpoint_every": None, "monitor": "eval_return" if evaluate else None, "mode": "max"}
    result = run_loop(agent, iterate, name=name, loop_params=loop, trainer_params=trainer,
                      evaluate=evaluation if evaluate else None)
    agent.envs.close()
    # Rows after a spent time budget repeat the last step count: one row per count, each
    # column its first value there (so an evaluation made after the budget ran out is kept).
    result.history = result.history.groupby("env_steps", as_index=False, sort=False).first()
    return agent.q.eval(), result
