"""Nodes of deep_rl_sac: SAC written from its equations (dl_roadmap/rl/sac.py) beside
Stable-Baselines3's SAC on the same environment, hyper-parameters, budget and seeds, each
evaluated with the same seeded deterministic episodes. Plain functions of plain values."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from PIL.Image import Image

from dl_roadmap.core.animation import gif_from_frames
from dl_roadmap.core.loop import run_loop
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.rl.evaluate import evaluate_policy
from dl_roadmap.rl.policy_model import PolicyModel
from dl_roadmap.rl.sac import SAC, Actor
from dl_roadmap.rl.video import record_episode

SETTINGS = ("hidden", "lr", "buffer_size", "learning_starts", "batch_size", "tau", "gamma", "gradient_steps",
            "initial_alpha")


def train_ours(params: dict[str, Any], trainer: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, Actor]:
    """Our SAC for each seed through the core loop (one iteration = one env step and one
    gradient step), evaluated every ``eval_every`` steps.

    Returns:
        The evaluation curve (implementation, seed, env_steps, eval_return), one row per
        seed (training seconds without the evaluations, seconds per 1k steps, final
        evaluation), and the first seed's actor (deterministic action tanh(mu), env units).
    """
    settings = {key: params[key] for key in SETTINGS}
    curves, rows, first = [], [], None
    for seed in params["seeds"]:
        agent = SAC(params["env_id"], settings, seed)
        spent = {"eval": 0.0}

        def evaluate(state: SAC, context) -> dict[str, float]:
            started = time.perf_counter()
            returns = evaluate_policy(params["env_id"], state.act_for_env, int(params["eval_episodes"]),
                                      seed=int(params["eval_seed"]))
            spent["eval"] += time.perf_counter() - started
            curves.append({"implementation": "ours", "seed": seed, "env_steps": state.steps,
                           "eval_return": float(returns.mean())})
            return {"eval_return": float(returns.mean())}

        loop = {"max_iterations": int(params["total_steps"]), "seed": seed, "log_every": int(params["log_every"]),
                "eval_every": int(params["eval_every"]), "checkpoint_every": params["checkpoint_every"]}
        result = run_loop(agent, lambda state, context: state.step(), name=f"deep_rl_sac/ours/seed{seed}",
                          loop_params=loop, trainer_params=trainer, evaluate=evaluate)
        rows.append(_final_row("ours", seed, params, result.seconds - spent["eval"], agent.act_for_env))
        first = first or agent.actor.eval()
        agent.env.close()
    return pd.DataFrame(curves), pd.DataFrame(rows), first


def train_sb3(params: dict[str, Any], trainer: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stable-Baselines3's SAC with the same hyper-parameters, budget, seeds and evaluations.

    Returns:
        The evaluation curve and one row per seed, as ``train_ours``."""
    import torch
    from stable_baselines3 import SAC as SB3SAC
    from stable_baselines3.common.callbacks import BaseCallback

    if trainer.get("num_threads"):
        torch.set_num_threads(int(trainer["num_threads"]))
    curves, rows = [], []
    for seed in params["seeds"]:
        spent = {"eval": 0.0}

        class Evaluate(BaseCallback):
            def _on_step(self) -> bool:
                if self.num_timesteps % int(params["eval_every"]) == 0:
                    started = time.perf_counter()
                    returns = evaluate_policy(params["env_id"], _sb3_actor(self.model), int(params["eval_episodes"]),
                                              seed=int(params["eval_seed"]))
                    spent["eval"] += time.perf_counter() - started
                    curves.append({"implementation": "sb3", "seed": seed, "env_steps": self.num_timesteps,
                                   "eval_return": float(returns.mean())})
                return True

        model = SB3SAC("MlpPolicy", params["env_id"], learning_rate=params["lr"], buffer_size=int(params["buffer_size"]),
                       learning_starts=int(params["learning_starts"]), batch_size=int(params["batch_size"]),
                       tau=params["tau"], gamma=params["gamma"], train_freq=1,
                       gradient_steps=int(params["gradient_steps"]), ent_coef=f"auto_{params['initial_alpha']}",
                       policy_kwargs={"net_arch": list(params["hidden"])}, seed=seed, device="cpu", verbose=0)
        started = time.perf_counter()
        model.learn(int(params["total_steps"]), callback=Evaluate(), progress_bar=bool(trainer.get("progress_bar")))
        rows.append(_final_row("sb3", seed, params, time.perf_counter() - started - spent["eval"], _sb3_actor(model)))
    return pd.DataFrame(curves), pd.DataFrame(rows)


def _sb3_actor(model):
    return lambda observation: model.predict(observation, deterministic=True)[0]


def _final_row(implementation: str, seed: int, params: dict[str, Any], seconds: float, act) -> dict[str, Any]:
    final = params["final_eval"]
    returns = evaluate_policy(params["env_id"], act, int(final["episodes"]), seed=int(final["seed"]))
    return {"implementation": implementation, "seed": seed, "env_steps": int(params["total_steps"]),
            "train_seconds": seconds, "seconds_per_1k_steps": 1000.0 * seconds / int(params["total_steps"]),
            "final_return_mean": float(returns.mean()), "final_return_std": float(returns.std()),
            "final_episodes": len(returns)}


def compare(ours: pd.DataFrame, sb3: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-seed rows of both, and the summary per implementation (mean and std over seeds)
    beside the rl-baselines3-zoo figure."""
    runs = pd.concat([ours, sb3], ignore_index=True)
    summary = runs.groupby("implementation", sort=False).agg(
        seeds=("seed", "count"), final_return_mean=("final_return_mean", "mean"),
        final_return_std_over_seeds=("final_return_mean", "std"),
        seconds_per_1k_steps=("seconds_per_1k_steps", "mean")).reset_index()
    summary["zoo_anchor"] = float(params["anchor"]["return"])
    return runs, summary


def curves_figure(ours: pd.DataFrame, sb3: pd.DataFrame, summary: pd.DataFrame, params: dict[str, Any]) -> Figure:
    """Deterministic evaluation return against env steps, both implementations (mean +- std
    over seeds), and their wall-clock seconds per 1k steps."""
    fig = Figure(figsize=(11, 4.2))
    ax, bars = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
    for curves, colour in ((ours, "tab:blue"), (sb3, "tab:orange")):
        name = curves["implementation"].iloc[0]
        table = curves.pivot(index="seed", columns="env_steps", values="eval_return")
        mean, std = table.mean(axis=0), table.std(axis=0).fillna(0.0)
        ax.plot(table.columns, mean, color=colour, label=f"{name} ({len(table)} seed(s))")
        ax.fill_between(table.columns, mean - std, mean + std, color=colour, alpha=0.2)
    ax.axhline(params["anchor"]["return"], color="black", ls="--", lw=1,
               label=f"rl-zoo SAC at 20k steps ({params['anchor']['return']:g})")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(f"deterministic return ({params['eval_episodes']} episodes)")
    ax.set_title(f"SAC on {params['env_id']}")
    ax.legend(fontsize=8)
    bars.bar(summary["implementation"], summary["seconds_per_1k_steps"], color=["tab:blue", "tab:orange"])
    bars.set_ylabel("wall-clock seconds per 1k env steps")
    bars.set_title("training speed (evaluations excluded)", fontsize=9)
    fig.tight_layout()
    return fig


def policy_model(actor: Actor, params: dict[str, Any]) -> PolicyModel:
    """Our seed-0 actor as an MLflow pyfunc model: (N, 3) observations [cos theta, sin theta,
    angular velocity] -> (N, 1) torque in [-2, 2] (tanh of the Gaussian's mean, rescaled)."""
    from dl_roadmap.rl.envs import make_env

    env = make_env(params["env_id"])
    low, high = env.action_space.low, env.action_space.high
    env.close()
    return PolicyModel(actor, discrete=False, action_low=low, action_high=high)


def pendulum_gif(actor: Actor, params: dict[str, Any]) -> Image:
    """One seeded deterministic episode of our trained actor."""
    policy = policy_model(actor, params)
    gif = params["gif"]
    frames = record_episode(params["env_id"], policy.act, seed=int(gif["seed"]), max_frames=int(gif["frames"]),
                            every=int(gif["every"]), max_side=int(gif["max_side"]))
    return gif_from_frames(frames, frame_ms=int(gif["frame_ms"]))


def summary_metrics(summary: pd.DataFrame) -> dict[str, dict[str, float]]:
    metrics = {}
    for _, row in summary.iterrows():
        for key in ("final_return_mean", "seconds_per_1k_steps"):
            metrics[f"{row['implementation']}/{key}"] = row[key]
    return metrics_for_mlflow(metrics)
