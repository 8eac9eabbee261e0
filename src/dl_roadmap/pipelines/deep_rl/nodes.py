"""Nodes of deep_rl: DQN and PPO on CartPole-v1 from rl/dqn.py and rl/ppo.py, beside
Stable-Baselines3 with the RL Zoo's settings; the return curves, the cost per 10k steps,
the policies loaded back as MLflow models, GIFs, and what the stages need. Plain functions
of plain values."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.rl.networks import Deterministic, greedy_act, pyfunc_returns

logger = logging.getLogger(__name__)

FEATURES = ["cart position", "cart velocity", "pole angle", "pole angular velocity"]


def evaluate(act: Any, env: dict[str, Any], evaluation: dict[str, Any], episodes: int | None = None) -> np.ndarray:
    """Returns of the seeded greedy evaluation episodes (the same start states for every agent)."""
    from dl_roadmap.rl.evaluate import evaluate_policy

    return evaluate_policy(env["env_id"], act, int(episodes or evaluation["episodes"]), int(evaluation["seed"]))


def _make(env: dict[str, Any]):
    from dl_roadmap.rl.envs import make_env

    return lambda: make_env(env["env_id"], key="deep_rl.env.env_id")


def train_dqn_agent(env: dict[str, Any], dqn: dict[str, Any], evaluation: dict[str, Any],
                    trainer: dict[str, Any]) -> tuple[nn.Module, pd.DataFrame]:
    """Our DQN (double, dueling) with the zoo's CartPole settings; the greedy Q-network with
    the best evaluation return, and the history (env_steps, eval_return, train_seconds...)."""
    from dl_roadmap.rl.dqn import train_dqn

    every = max(1, int(evaluation["every_steps"]) // int(dqn["iteration_steps"]))
    q, result = train_dqn(_make(env), dqn, seed=int(env["seed"]), name="dqn",
                          evaluate=lambda net: evaluate(greedy_act(net, True), env, evaluation).mean(),
                          eval_every=every, trainer=trainer)
    return Deterministic(q).eval(), result.history


def train_ppo_agent(env: dict[str, Any], ppo: dict[str, Any], evaluation: dict[str, Any],
                    trainer: dict[str, Any]) -> tuple[nn.Module, pd.DataFrame]:
    """Our PPO with the zoo's CartPole settings; the policy (observation -> action logits)
    with the best evaluation return, and the history."""
    from dl_roadmap.rl.ppo import train_ppo

    per_rollout = int(ppo["n_envs"]) * int(ppo["n_steps"])
    every = max(1, round(int(evaluation["every_steps"]) / per_rollout))
    net, result = train_ppo(_make(env), ppo, seed=int(env["seed"]), name="ppo",
                            evaluate=lambda n: evaluate(greedy_act(n, True), env, evaluation).mean(),
                            eval_every=every, trainer=trainer)
    return Deterministic(net).eval(), result.history


def train_sb3_agents(env: dict[str, Any], sb3: dict[str, Any], evaluation: dict[str, Any]) -> pd.DataFrame:
    """SB3's DQN and PPO (RL Zoo settings) for each of ``sb3["seeds"]``: one row per evaluation."""
    from dl_roadmap.pipelines.deep_rl.sb3 import train_sb3

    tables = []
    for algo in sb3["algorithms"]:
        for seed in sb3["seeds"]:
            table = train_sb3(algo, env["env_id"], sb3[algo], int(seed),
                              lambda act: evaluate(act, env, evaluation).mean(), int(evaluation["every_steps"]))
            tables.append(table.assign(algorithm=algo, library="sb3", seed=int(seed)))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(
        columns=["env_steps", "eval_return", "train_seconds", "algorithm", "library", "seed"])


def curves(dqn_history: pd.DataFrame, ppo_history: pd.DataFrame, sb3_curves: pd.DataFrame,
           env: dict[str, Any]) -> pd.DataFrame:
    """Every evaluation of every agent in one long table (algorithm, library, seed, env_steps,
    eval_return, train_seconds): the data of the return-curve plot."""
    ours = []
    for algo, history in (("dqn", dqn_history), ("ppo", ppo_history)):
        rows = history.dropna(subset=["eval_return"])[["env_steps", "eval_return", "train_seconds"]]
        ours.append(rows.assign(algorithm=algo, library="ours", seed=int(env["seed"])))
    return pd.concat([*ours, sb3_curves], ignore_index=True)


def solved_at(rows: pd.DataFrame, threshold: float) -> float:
    """Env steps at the first evaluation whose mean return reaches ``threshold`` (NaN: never)."""
    hit = rows[rows["eval_return"] >= threshold]
    return float(hit["env_steps"].iloc[0]) if len(hit) else float("nan")


def comparison(curve_table: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per (algorithm, library): runs, env steps to solve (mean over the runs that solved),
    runs that solved, best and final evaluation return, and training seconds per 10k env steps."""
    rows = []
    for (algo, library), group in curve_table.groupby(["algorithm", "library"], sort=True):
        per_run = []
        for _, run in group.groupby("seed"):
            run = run.sort_values("env_steps")
            last = run.iloc[-1]
            per_run.append({"solved_at": solved_at(run, threshold), "best": run["eval_return"].max(),
                            "final": last["eval_return"],
                            "seconds_per_10k": 1e4 * last["train_seconds"] / last["env_steps"]})
        table = pd.DataFrame(per_run)
        rows.append({"algorithm": algo, "library": library, "runs": len(table),
                     "solved_runs": int(table["solved_at"].notna().sum()),
                     "steps_to_solve_mean": table["solved_at"].mean(),
                     "best_eval_return_mean": table["best"].mean(), "final_eval_return_mean": table["final"].mean(),
                     "seconds_per_10k_steps_mean": table["seconds_per_10k"].mean(),
                     "seconds_per_10k_steps_std": table["seconds_per_10k"].std(ddof=0)})
    return pd.DataFrame(rows)


def curves_figure(curve_table: pd.DataFrame, threshold: float) -> Figure:
    """Evaluation return against env steps, a panel per algorithm: every run thin, the mean
    over seeds thick; ours solid, Stable-Baselines3 dashed (our vanilla DQN dotted)."""
    algorithms = sorted(curve_table["algorithm"].unique())
    figure = Figure(figsize=(6 * len(algorithms), 4.5), layout="constrained")
    axes = figure.subplots(1, len(algorithms), squeeze=False)[0]
    styles = {"ours": ("-", "tab:blue"), "sb3": ("--", "tab:red"), "ours, vanilla": (":", "tab:green")}
    for ax, algo in zip(axes, algorithms):
        for library, runs in curve_table[curve_table["algorithm"] == algo].groupby("library", sort=False):
            ls, colour = styles.get(library, ("-.", "grey"))
            for _, run in runs.groupby("seed"):
                run = run.sort_values("env_steps")
                ax.plot(run["env_steps"], run["eval_return"], color=colour, ls=ls, lw=0.7, alpha=0.45)
            mean = runs.groupby("env_steps")["eval_return"].mean()
            seeds = runs["seed"].nunique()
            ax.plot(mean.index, mean.to_numpy(), color=colour, ls=ls, lw=2.2,
                    label=f"{library}: mean of {seeds} seed{'s' if seeds > 1 else ''}")
        ax.axhline(threshold, color="grey", ls=":", lw=1)
        ax.set(xlabel="env steps", ylabel="mean greedy evaluation return", title=f"CartPole-v1, {algo.upper()}")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    figure.suptitle("ours against Stable-Baselines3 with the RL Zoo's settings (thin: each seed)")
    return figure


def mlflow_check(dqn_policy: nn.Module, ppo_policy: nn.Module, env: dict[str, Any],
                 params: dict[str, Any]) -> pd.DataFrame:
    """Each policy saved as an MLflow pyfunc model (PolicyModel), loaded back with
    ``mlflow.pyfunc.load_model`` and run in a plain Gymnasium loop for ``episodes`` seeded
    episodes (rl.networks.pyfunc_returns): mean and std of the return, and whether it
    clears ``bar``."""
    rows = []
    for name, policy in (("dqn", dqn_policy), ("ppo", ppo_policy)):
        returns = pyfunc_returns(policy, env["env_id"], int(params["episodes"]), int(params["seed"]), discrete=True)
        rows.append({"policy": name, "episodes": len(returns), "mean_return": float(np.mean(returns)),
                     "std_return": float(np.std(returns)), "min_return": float(np.min(returns)),
                     "bar": float(params["bar"]), "meets_bar": bool(np.mean(returns) >= float(params["bar"]))})
    return pd.DataFrame(rows)


def policy_gif(policy: nn.Module, env: dict[str, Any], params: dict[str, Any]) -> Any:
    """One greedy episode of ``policy`` as an animated GIF (PIL image)."""
    from dl_roadmap.core.animation import gif_from_frames
    from dl_roadmap.rl.video import record_episode

    frames = record_episode(env["env_id"], greedy_act(policy, True), seed=int(params["seed"]),
                            max_frames=int(params["max_frames"]), every=int(params["every"]))
    return gif_from_frames(frames, frame_ms=int(params["frame_ms"]))


def collect_states(policy: nn.Module, env: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Observations met by the greedy ``policy`` over seeded episodes, in order: the inputs
    the compress stage times and the explain stage explains (``states``, (N, 4) float32;
    ``episode``/``step`` say where each came from)."""
    from dl_roadmap.rl.envs import make_env

    act, states, where = greedy_act(policy, True), [], []
    game = make_env(env["env_id"])
    for episode in range(int(params["episodes"])):
        obs, _ = game.reset(seed=int(params["seed"]) + episode)
        done, step = False, 0
        while not done and step < int(params["max_steps"]):
            states.append(np.asarray(obs, dtype=np.float32))
            where.append((episode, step))
            obs, _, terminated, truncated, _ = game.step(act(obs))
            done, step = terminated or truncated, step + 1
    game.close()
    return {"states": torch.as_tensor(np.stack(states)), "episode": np.asarray([w[0] for w in where]),
            "step": np.asarray([w[1] for w in where]), "env": dict(env)}


def log_policy(policy: nn.Module) -> Any:
    """A CartPole policy as an MLflow pyfunc model (rl.policy_model.PolicyModel): input (N, 4)
    float rows (cart position, cart velocity, pole angle, pole angular velocity); output (N,)
    int64 actions (0 push left, 1 push right)."""
    from dl_roadmap.rl.policy_model import PolicyModel

    return PolicyModel(policy, discrete=True)


def explain_steps_figure(attributions: dict[str, Any], data: dict[str, Any]) -> Figure:
    """SHAP of the preference for pushing right (logit right - logit left), per step of the
    explained items in episode order (top) and overall mean |SHAP| per observation (bottom)."""
    shap = np.asarray(attributions["shap"], dtype=float).reshape(len(attributions["indices"]), -1)
    order = np.argsort(np.asarray(attributions["indices"]))
    steps = np.asarray(data["step"])[np.asarray(attributions["indices"])][order]
    figure = Figure(figsize=(8, 6))
    top, bottom = figure.subplots(2, 1)
    for j, name in enumerate(FEATURES):
        top.plot(np.arange(len(order)), shap[order, j], marker="o", ms=3, lw=1, label=name)
    top.axhline(0, color="grey", lw=0.8)
    top.set_xticks(np.arange(len(order)), [str(s) for s in steps], fontsize=6, rotation=90)
    top.set_xlabel("explained step of the episode (step index)")
    top.set_ylabel("SHAP (> 0 pushes right)")
    top.legend(fontsize=7, ncol=2)
    top.set_title("What drives push-right against push-left, step by step")
    bottom.barh(FEATURES, np.abs(shap).mean(axis=0), color="tab:purple")
    bottom.set_xlabel("mean |SHAP| over the explained steps")
    figure.tight_layout()
    return figure


def summary_metrics(comparison_table: pd.DataFrame, check: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The headline figures as MLflow metrics."""
    from dl_roadmap.core.tracking import metrics_for_mlflow

    values: dict[str, float] = {}
    for row in comparison_table.itertuples():
        key = f"{row.algorithm}_{row.library}"
        values[f"{key}_steps_to_solve"] = row.steps_to_solve_mean
        values[f"{key}_seconds_per_10k_steps"] = row.seconds_per_10k_steps_mean
        values[f"{key}_best_eval_return"] = row.best_eval_return_mean
    for row in check.itertuples():
        values[f"{row.policy}_mlflow_mean_return"] = row.mean_return
    return metrics_for_mlflow(values)
