"""Figures of reinforcement_learning: value maps with policy arrows, the FrozenLake learning
curves against the DP optimum, Sutton & Barto's Figure 6.4, the CartPole return curves and
the gradient variance of the REINFORCE estimators."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

# FrozenLake, CliffWalking and Taxi all number their actions this way for moves:
ARROWS = {"frozenlake": {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)},   # left, down, right, up (dx, dy down)
          "cliffwalking": {0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)},  # up, right, down, left
          "taxi": {0: (0, 1), 1: (0, -1), 2: (1, 0), 3: (-1, 0)}}          # south, north, east, west (+ pickup, dropoff)
COLOURS = {"q_learning": "tab:red", "sarsa": "tab:blue", "expected_sarsa": "tab:green",
           "reinforce": "tab:gray", "reward_to_go": "tab:orange", "baseline": "tab:blue", "a2c": "tab:green"}


def _grid_panel(ax, values: np.ndarray, policy: np.ndarray, shape: tuple[int, int], moves: dict[int, tuple[int, int]],
                title: str, skip: np.ndarray | None = None, letters: dict[int, str] | None = None) -> None:
    rows, cols = shape
    image = ax.imshow(values.reshape(rows, cols), cmap="viridis")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    for s in range(rows * cols):
        if skip is not None and skip[s]:
            continue
        r, c = divmod(s, cols)
        a = int(policy[s])
        if a in moves:
            dx, dy = moves[a]
            ax.arrow(c - 0.25 * dx, r - 0.25 * dy, 0.3 * dx, 0.3 * dy, head_width=0.18, color="white", length_includes_head=True)
        elif letters and a in letters:
            ax.text(c, r, letters[a], ha="center", va="center", color="white", fontsize=9, weight="bold")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def dp_figure(solutions: dict[str, dict[str, Any]]) -> Figure:
    """V* as a heat map with the greedy action of each state (value iteration; policy
    iteration gives the same values). Holes, the goal and the cliff show no arrow. Taxi: the
    slice with the passenger waiting at R (top left) and the destination G (top right)."""
    fig = Figure(figsize=(15, 4.2))
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1.2, 2.2, 1]})
    for ax, name in zip(axes, ("frozenlake_4x4", "frozenlake_8x8", "cliffwalking", "taxi")):
        if name not in solutions:
            ax.axis("off")
            continue
        s = solutions[name]
        V, policy = s["V"], s["policy"]
        terminal = np.zeros(len(V), dtype=bool)
        if name.startswith("frozenlake"):
            side = int(round(np.sqrt(len(V))))
            stuck = np.abs(s["Q"]).max(axis=1) == 0  # holes and the goal: nothing follows them
            _grid_panel(ax, V, policy, (side, side), ARROWS["frozenlake"], f"{name}: V* and pi*", skip=stuck)
        elif name == "cliffwalking":
            terminal[37:47] = True  # the cliff (never occupied) and the goal
            terminal[47] = True
            _grid_panel(ax, V, policy, (4, 12), ARROWS["cliffwalking"], "CliffWalking: V* and pi* (the edge path)",
                        skip=terminal)
        else:  # Taxi: state = ((row * 5 + col) * 5 + passenger) * 4 + destination
            index = [((r * 5 + c) * 5 + 0) * 4 + 1 for r in range(5) for c in range(5)]
            _grid_panel(ax, V[index], policy[index], (5, 5), ARROWS["taxi"],
                        "Taxi: V*, passenger at R, to G\n(P = pick up)", letters={4: "P", 5: "D"})
    fig.suptitle("Dynamic programming on the environments' transition tables (gamma = 0.99)")
    fig.tight_layout()
    return fig


def _band(ax, x: np.ndarray, runs: np.ndarray, label: str, colour: str) -> None:
    mean, std = runs.mean(axis=0), runs.std(axis=0)
    ax.plot(x, mean, label=label, color=colour)
    ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.2)


def frozenlake_figure(curves: pd.DataFrame, results: pd.DataFrame) -> Figure:
    """Greedy-policy success probability (exact, within the time limit) against episodes,
    mean +- std over seeds, with the DP optimum."""
    envs = list(dict.fromkeys(curves["env"]))
    fig = Figure(figsize=(6 * len(envs), 4))
    axes = np.atleast_1d(fig.subplots(1, len(envs)))
    for ax, env in zip(axes, envs):
        data = curves[curves["env"] == env]
        for method, group in data.groupby("method", sort=False):
            table = group.pivot(index="seed", columns="episode", values="success")
            _band(ax, table.columns.to_numpy(), table.to_numpy(), method, COLOURS[method])
        optimum = results.loc[results["env"] == env, "dp_optimum"].iloc[0]
        ax.axhline(optimum, color="black", ls="--", label=f"DP optimum {optimum:.3f}")
        ax.set_xlabel("training episodes")
        ax.set_ylabel("P(goal within the time limit), greedy policy")
        ax.set_title(f"{env} (slippery), {data['seed'].nunique()} seeds, mean ± std")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def cliff_figure(rewards: pd.DataFrame, summary: pd.DataFrame, smoothing: int) -> Figure:
    """Sutton & Barto Figure 6.4 (Example 6.6): sum of rewards per episode during learning,
    eps = 0.1, alpha = 0.5; mean over seeds of a ``smoothing``-episode moving average, band
    = std over seeds."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    kernel = np.ones(smoothing) / smoothing
    for method, group in rewards.groupby("method", sort=False):
        table = group.pivot(index="seed", columns="episode", values="reward").to_numpy()
        smooth = np.stack([np.convolve(row, kernel, mode="valid") for row in table])
        x = np.arange(smoothing, table.shape[1] + 1)
        greedy = summary.loc[summary["method"] == method, "greedy_return_median"].iloc[0]
        _band(ax, x, smooth, f"{method} (greedy path, median over seeds: {greedy:.0f})", COLOURS[method])
    ax.set_ylim(-100, 0)
    ax.set_xlabel("episodes")
    ax.set_ylabel("sum of rewards during episode")
    ax.set_title(f"CliffWalking, Sutton & Barto Fig. 6.4: {rewards['seed'].nunique()} seeds, "
                 f"{smoothing}-episode moving average, ± std")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def pg_figure(curves: pd.DataFrame, results: pd.DataFrame, solved_at: float) -> Figure:
    """CartPole training return against environment steps, mean +- std over seeds (each
    seed's curve interpolated onto a common grid of steps)."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    for method, group in curves.groupby("method", sort=False):
        end = group.groupby("seed")["env_steps"].max().min()
        grid = np.linspace(0, end, 100)
        runs = np.stack([np.interp(grid, g["env_steps"], g["return"].ffill().fillna(0.0)) for _, g in group.groupby("seed")])
        evaluation = results[results["method"] == method]
        _band(ax, grid, runs, f"{method} (greedy eval {evaluation['eval_mean'].mean():.0f}, "
                              f"solved {int(evaluation['solved'].sum())}/{len(evaluation)})", COLOURS[method])
    ax.axhline(solved_at, color="black", ls="--", lw=1, label=f"solved ({solved_at:g})")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("training episode return")
    ax.set_title(f"CartPole-v1: policy gradients, {curves['seed'].nunique()} seeds, mean ± std")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def variance_figure(table: pd.DataFrame) -> Figure:
    """Covariance trace of the gradient estimate per episode, for the same policy and episodes."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    colours = [COLOURS.get(m, "tab:gray") for m in table["estimator"]]
    bars = ax.bar(table["estimator"], table["trace_cov_per_episode"], color=colours)
    for bar, ratio, cosine in zip(bars, table["variance_ratio_to_reinforce"], table["cosine_with_reward_to_go"]):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), f"x{ratio:.3f}\ncos {cosine:.2f}",
                ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylim(top=table["trace_cov_per_episode"].max() * 3)  # room for the labels
    ax.set_ylabel("tr Cov[grad estimate] per episode")
    ax.set_title(f"REINFORCE gradient variance, one policy (mean return {table['mean_return'].iloc[0]:.0f}), "
                 f"{table['episodes'].iloc[0]} episodes", fontsize=9)
    fig.tight_layout()
    return fig
