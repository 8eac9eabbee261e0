"""Nodes of deep_rl_minatar: DQN (double, dueling) on MinAtar Breakout from its 10x10x4
grids, its learning curve beside the MinAtar paper's DQN, a GIF drawn from the state grid
and the greedy policy as an MLflow model. Plain functions of plain values."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dl_roadmap.rl.dqn import train_dqn
from dl_roadmap.rl.networks import QNetwork, greedy_act

logger = logging.getLogger(__name__)

# Young & Tian (2019), "MinAtar", arXiv:1903.03176v2: DQN (replay 100k, batch 32, centred
# RMSprop 2.5e-4, target network every 1,000 frames, epsilon 1 -> 0.1 over the first 100k
# frames, one update per frame; MinAtar's examples/dqn.py), trained for 5M frames.
PAPER = {"source": "Young & Tian 2019 (MinAtar, arXiv:1903.03176v2), DQN learning curves", "frames": 5_000_000}
# The paper's Breakout DQN curve (moving average of the last 100 training returns, mean of 30
# runs), read by eye off its learning-curve figure (also MinAtar's README,
# img/learning_curves.gif) at a few frame counts: approximate, +-0.5.
PAPER_CURVE = ((50_000, 2.0), (100_000, 4.5), (200_000, 6.3), (400_000, 8.0), (1_000_000, 9.5),
               (2_000_000, 10.0), (5_000_000, 10.0))


def paper_return_at(frames: float) -> float:
    """The paper's DQN training return at ``frames``, interpolated between the read points."""
    x, y = zip(*PAPER_CURVE)
    return float(np.interp(frames, (0, *x), (0.5, *y)))  # random play scores ~0.5


def make_minatar(game: str, sticky_action_prob: float = 0.1):
    """One MinAtar game as a Gymnasium environment (full action set, as the paper's agents)."""
    import gymnasium as gym

    import warnings

    env_id = f"MinAtar/{game}-v0"
    warnings.filterwarnings("ignore", message=".*MinAtar.*out of date")  # v0 = full action set, on purpose
    if env_id not in gym.registry:
        from minatar.gym import register_envs

        register_envs()
    if env_id not in gym.registry:
        raise ValueError(f"deep_rl_minatar.env.game: unknown MinAtar game {game!r}")
    return gym.make(env_id, sticky_action_prob=sticky_action_prob)


def evaluate_q(q: torch.nn.Module, params: dict[str, Any], seed: int) -> np.ndarray:
    """Returns of ``params["episodes"]`` greedy episodes (sticky actions still apply),
    each cut at ``max_steps``."""
    act = greedy_act(q, discrete=True)
    returns = []
    for episode in range(int(params["episodes"])):
        env = make_minatar(params["game"], params["sticky_action_prob"])
        obs, _ = env.reset(seed=seed + episode)
        total, steps, done = 0.0, 0, False
        while not done and steps < int(params["max_steps"]):
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            total, steps, done = total + float(reward), steps + 1, terminated or truncated
        returns.append(total)
        env.close()
    return np.asarray(returns)


def train_agent(env: dict[str, Any], dqn: dict[str, Any], evaluation: dict[str, Any],
                trainer: dict[str, Any]) -> tuple[QNetwork, pd.DataFrame, dict[str, Any]]:
    """DQN on the game for ``dqn.total_steps`` frames.

    Returns:
        The greedy Q-network with the best evaluation return, the history (one row per
        iteration: frames, training episode return, loss, epsilon, evaluation return) and a
        summary (frames, seconds, final and best returns).
    """
    seed = int(env["seed"])
    settings = {**evaluation, "game": env["game"], "sticky_action_prob": env["sticky_action_prob"]}
    q, result = train_dqn(lambda: make_minatar(env["game"], env["sticky_action_prob"]), dqn, seed=seed,
                          name="minatar_dqn", evaluate=lambda net: evaluate_q(net, settings, 10_000).mean(),
                          eval_every=int(evaluation["every"]), trainer=trainer)
    history = result.history.rename(columns={"env_steps": "frames"})
    final = evaluate_q(q, {**settings, "episodes": evaluation["final_episodes"]}, 20_000)
    summary = {"frames": int(history["frames"].max()), "train_seconds": float(history["train_seconds"].max()),
               "best_eval_return": float(result.best_score or 0.0), "final_eval_return_mean": float(final.mean()),
               "final_eval_return_std": float(final.std()), "final_eval_episodes": len(final),
               "paper": PAPER["source"], "paper_frames": PAPER["frames"]}
    summary["paper_return_at_our_frames"] = paper_return_at(summary["frames"])
    summary["our_training_return_at_end"] = float(history["episode_return"].dropna().tail(5).mean())
    logger.info("MinAtar %s: %d frames in %.0f s, greedy return %.2f +- %.2f", env["game"], summary["frames"],
                summary["train_seconds"], final.mean(), final.std())
    return q, history, summary


def learning_curve(history: pd.DataFrame, window: int) -> pd.DataFrame:
    """Training-episode return against frames, smoothed over ``window`` rows (the paper's
    curves are training returns too), beside the greedy evaluation returns."""
    curve = history[["frames"]].copy()
    curve["episode_return"] = history["episode_return"].rolling(window, min_periods=1).mean() \
        if "episode_return" in history else np.nan
    curve["eval_return"] = history["eval_return"] if "eval_return" in history else np.nan
    return curve


def curve_figure(curve: pd.DataFrame, summary: dict[str, Any]) -> Figure:
    """Our learning curve, with the span of the paper's 5M-frame curve marked."""
    figure = Figure(figsize=(7, 4))
    ax = figure.subplots()
    ax.plot(curve["frames"], curve["episode_return"], label="ours: training episodes (epsilon-greedy, smoothed)")
    evals = curve.dropna(subset=["eval_return"])
    ax.plot(evals["frames"], evals["eval_return"], "o-", ms=3, label="ours: greedy evaluation")
    x, y = zip(*PAPER_CURVE)
    ax.plot(x, y, "s--", color="grey", ms=4, label="paper's DQN (training returns, read off its figure)")
    ax.axvline(summary["frames"], color="grey", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("frames (log scale)")
    ax.set_ylabel("return")
    ax.set_title(f"MinAtar Breakout, DQN: {summary['frames']:,} of the paper's {summary['paper_frames']:,} frames")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return figure


def state_frame(state: np.ndarray, scale: int = 16) -> np.ndarray:
    """A 10x10xC boolean grid -> an RGB image: each channel its own colour (MinAtar's
    cubehelix palette), black where no channel is set, each cell ``scale`` pixels wide."""
    import seaborn as sns

    channels = state.shape[-1]
    palette = np.asarray([(0.0, 0.0, 0.0), *sns.color_palette("cubehelix", channels)])
    index = np.amax(state * np.arange(1, channels + 1).reshape(1, 1, -1), axis=2)
    image = (palette[index] * 255).astype(np.uint8)
    return np.kron(image, np.ones((scale, scale, 1), dtype=np.uint8))


def play_gif(q: QNetwork, env: dict[str, Any], params: dict[str, Any]) -> Any:
    """One greedy episode drawn from the state grid, as an animated GIF (PIL image)."""
    from dl_roadmap.core.animation import gif_from_frames

    game = make_minatar(env["game"], env["sticky_action_prob"])
    obs, _ = game.reset(seed=int(params["seed"]))
    act, frames, done = greedy_act(q, discrete=True), [state_frame(obs)], False
    while not done and len(frames) < int(params["max_frames"]):
        obs, _, terminated, truncated, _ = game.step(act(obs))
        done = terminated or truncated
        frames.append(state_frame(obs))
    game.close()
    return gif_from_frames(frames, frame_ms=int(params["frame_ms"]))


def log_policy(q: QNetwork) -> Any:
    """The greedy policy as an MLflow pyfunc model (rl.policy_model.PolicyModel): input
    (N, 400) rows, the 10x10x4 grid flattened in C order; output (N,) int64 actions."""
    from dl_roadmap.rl.policy_model import PolicyModel

    return PolicyModel(q, discrete=True)


def summary_metrics(summary: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The headline figures as MLflow metrics."""
    from dl_roadmap.core.tracking import metrics_for_mlflow

    return metrics_for_mlflow({k: v for k, v in summary.items() if isinstance(v, (int, float))})
