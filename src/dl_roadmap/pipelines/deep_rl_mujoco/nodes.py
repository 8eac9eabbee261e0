"""Nodes of deep_rl_mujoco: PPO with a Gaussian policy (rl/ppo.py) balances MuJoCo's
InvertedPendulum-v5; the learning curve, the policy loaded back as an MLflow model and
played, a rendered GIF. Plain functions of plain values."""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.rl.networks import Deterministic, greedy_act, pyfunc_returns

logger = logging.getLogger(__name__)


def _env(env: dict[str, Any], render_mode: str | None = None):
    # MuJoCo picks its OpenGL back end when first imported: headless rendering needs EGL
    # chosen before anything imports mujoco, training included.
    os.environ.setdefault("MUJOCO_GL", "egl")
    from dl_roadmap.rl.envs import make_env

    return make_env(env["env_id"], render_mode=render_mode, key="deep_rl_mujoco.env.env_id")


def _bounds(env: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    game = _env(env)
    low, high = game.action_space.low, game.action_space.high
    game.close()
    return low, high


def _evaluate(policy: nn.Module, env: dict[str, Any], episodes: int, seed: int) -> np.ndarray:
    from dl_roadmap.rl.evaluate import evaluate_policy

    low, high = _bounds(env)
    act = greedy_act(policy, discrete=False)
    return evaluate_policy(env["env_id"], lambda obs: np.clip(act(obs), low, high), int(episodes), int(seed))


def train_agent(env: dict[str, Any], ppo: dict[str, Any], evaluation: dict[str, Any],
                trainer: dict[str, Any]) -> tuple[nn.Module, pd.DataFrame, dict[str, Any]]:
    """PPO (Gaussian policy) for ``ppo.total_steps`` env steps.

    Returns:
        The deterministic policy (observation -> mean action) with the best evaluation
        return, the history (env_steps, episode_return, eval_return, losses, log std...)
        and a summary (steps, seconds, best return, steps to the maximum return).
    """
    from dl_roadmap.rl.ppo import train_ppo

    every = max(1, round(int(evaluation["every_steps"]) / (int(ppo["n_envs"]) * int(ppo["n_steps"]))))
    net, result = train_ppo(lambda: _env(env), ppo, seed=int(env["seed"]), name="ppo_pendulum",
                            evaluate=lambda n: _evaluate(n, env, evaluation["episodes"], evaluation["seed"]).mean(),
                            eval_every=every, trainer=trainer)
    history = result.history
    evals = history.dropna(subset=["eval_return"])
    hit = evals[evals["eval_return"] >= float(evaluation["max_return"])]
    summary = {"env_steps": int(history["env_steps"].max()), "train_seconds": float(history["train_seconds"].max()),
               "best_eval_return": float(result.best_score or 0.0),
               "steps_to_max_return": float(hit["env_steps"].iloc[0]) if len(hit) else float("nan"),
               "max_return": float(evaluation["max_return"])}
    logger.info("InvertedPendulum: best evaluation return %.1f after %d steps (%.0f s of training)",
                summary["best_eval_return"], summary["env_steps"], summary["train_seconds"])
    return Deterministic(net).eval(), history, summary


def mlflow_check(policy: nn.Module, env: dict[str, Any], params: dict[str, Any]) -> pd.DataFrame:
    """The policy as an MLflow pyfunc model, loaded back and played for ``episodes`` seeded
    episodes in a plain Gymnasium loop (rl.networks.pyfunc_returns)."""
    low, high = _bounds(env)
    returns = pyfunc_returns(policy, env["env_id"], int(params["episodes"]), int(params["seed"]), discrete=False,
                             action_low=low, action_high=high)
    return pd.DataFrame([{"policy": "ppo", "episodes": len(returns), "mean_return": float(returns.mean()),
                          "std_return": float(returns.std()), "min_return": float(returns.min()),
                          "max_return": float(params["max_return"])}])


def curve_figure(history: pd.DataFrame, summary: dict[str, Any]) -> Figure:
    """Training-episode and greedy evaluation returns against env steps."""
    figure = Figure(figsize=(7, 4))
    ax = figure.subplots()
    if "episode_return" in history:
        ax.plot(history["env_steps"], history["episode_return"], lw=1, alpha=0.7, label="training episodes (sampled actions)")
    evals = history.dropna(subset=["eval_return"])
    ax.plot(evals["env_steps"], evals["eval_return"], "o-", ms=3, label="greedy evaluation (mean action)")
    ax.axhline(summary["max_return"], color="grey", ls=":", lw=1, label="maximum return")
    ax.set_xlabel("env steps")
    ax.set_ylabel("return")
    ax.set_title("InvertedPendulum-v5: PPO with a Gaussian policy")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return figure


def policy_gif(policy: nn.Module, env: dict[str, Any], params: dict[str, Any]) -> Any:
    """One greedy episode rendered off-screen (MuJoCo through EGL), as an animated GIF."""
    from dl_roadmap.core.animation import gif_from_frames
    from dl_roadmap.rl.video import record_episode

    os.environ.setdefault("MUJOCO_GL", "egl")
    low, high = _bounds(env)
    act = greedy_act(policy, discrete=False)
    frames = record_episode(env["env_id"], lambda obs: np.clip(act(obs), low, high), seed=int(params["seed"]),
                            max_frames=int(params["max_frames"]), every=int(params["every"]))
    return gif_from_frames(frames, frame_ms=int(params["frame_ms"]))


def log_policy(policy: nn.Module, env: dict[str, Any]) -> Any:
    """The policy as an MLflow pyfunc model (rl.policy_model.PolicyModel): input (N, 4) float
    rows (cart position, pole angle, cart velocity, pole angular velocity); output float32
    (N, 1), the force on the cart, clipped to [-3, 3]."""
    from dl_roadmap.rl.policy_model import PolicyModel

    low, high = _bounds(env)
    return PolicyModel(policy, discrete=False, action_low=low, action_high=high)


def summary_metrics(summary: dict[str, Any], check: pd.DataFrame) -> dict[str, dict[str, float]]:
    from dl_roadmap.core.tracking import metrics_for_mlflow

    values = {k: v for k, v in summary.items() if isinstance(v, (int, float))}
    values["mlflow_mean_return"] = float(check["mean_return"].iloc[0])
    return metrics_for_mlflow(values)
