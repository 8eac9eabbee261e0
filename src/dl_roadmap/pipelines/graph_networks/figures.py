"""Figures of graph_networks, each a matplotlib Figure the catalog saves (and MLflow keeps)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

METHOD_ORDER = ["label_propagation", "mlp", "gcn", "gat"]


def _layout(edge_index: np.ndarray, nodes: list[int], seed: int = 0) -> dict[int, np.ndarray]:
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((int(a), int(b)) for a, b in edge_index.T if a != b)
    return nx.spring_layout(graph, seed=seed)


def karate_figure(karate: dict[str, Any]) -> Figure:
    """Zachary's karate club: the graph coloured by community (ringed: the one labelled member
    of each), and the GCN's hidden node features in 2-D (PCA) coloured by its prediction."""
    from sklearn.decomposition import PCA

    fig = Figure(figsize=(11, 4.8))
    ax_graph, ax_embed = fig.subplots(1, 2)
    nodes = list(range(len(karate["y"])))
    pos = _layout(karate["edge_index"], nodes)
    xy = np.array([pos[n] for n in nodes])
    for a, b in karate["edge_index"].T:
        ax_graph.plot(*xy[[a, b]].T, color="0.8", lw=0.6, zorder=0)
    ax_graph.scatter(*xy.T, c=karate["y"], cmap="tab10", vmin=0, vmax=9, s=90, zorder=1)
    ax_graph.scatter(*xy[karate["train_index"]].T, facecolors="none", edgecolors="k", s=260, lw=1.5, zorder=2)
    ax_graph.set_title("Karate club: communities (ringed: the 4 labelled members)")
    ax_graph.axis("off")
    flat = PCA(2, random_state=0).fit_transform(karate["hidden"])
    ax_embed.scatter(*flat.T, c=karate["predicted"], cmap="tab10", vmin=0, vmax=9, s=60)
    ax_embed.set_title(f"GCN hidden features (PCA), colour = prediction; acc on the 30 others "
                       f"{100 * karate['test_acc']:.0f}%", fontsize=9)
    fig.tight_layout()
    return fig


def results_figure(summary: pd.DataFrame) -> Figure:
    """Test accuracy mean ± std over seeds per method and data set; ◆ the published figure."""
    datasets = list(dict.fromkeys(summary["dataset"]))
    fig = Figure(figsize=(5 * len(datasets), 4))
    for ax, name in zip(np.atleast_1d(fig.subplots(1, len(datasets))), datasets):
        rows = summary[summary["dataset"] == name].set_index("method")
        methods = [m for m in METHOD_ORDER if m in rows.index]
        at = np.arange(len(methods))
        ax.bar(at, rows.loc[methods, "test_acc_mean"], yerr=rows.loc[methods, "test_acc_std"], capsize=4,
               color="tab:blue", label="ours (mean ± std over seeds)")
        ax.scatter(at, rows.loc[methods, "published"], marker="D", color="tab:red", zorder=3, label="published")
        for i, m in enumerate(methods):
            ax.text(i, rows.loc[m, "test_acc_mean"] / 2, f"{rows.loc[m, 'test_acc_mean']:.1f}", ha="center",
                    color="white", fontsize=9)
        ax.set_xticks(at, methods, fontsize=8)
        ax.set_ylim(0, 100)
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"{name} (Planetoid split)")
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def depth_figure(depth: pd.DataFrame) -> Figure:
    """Over-smoothing: test accuracy and hidden-feature similarity against depth."""
    fig = Figure(figsize=(10, 4))
    ax_acc, ax_sim = fig.subplots(1, 2)
    for residual, rows in depth.groupby("residual"):
        stats = rows.groupby("depth").agg(acc=("test_acc", "mean"), acc_std=("test_acc", "std"),
                                          sim=("similarity", "mean"))
        label = "residual" if residual else "plain"
        ax_acc.errorbar(stats.index, 100 * stats["acc"], yerr=100 * stats["acc_std"].fillna(0), marker="o",
                        capsize=3, label=label)
        ax_sim.plot(stats.index, stats["sim"], marker="o", label=label)
    for ax, ylabel in ((ax_acc, "test accuracy (%)"), (ax_sim, "mean cosine similarity of node features")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("GCN layers")
        ax.set_ylabel(ylabel)
        ax.legend()
    ax_acc.set_title("Deeper GCNs over-smooth (Cora)")
    ax_sim.set_title("Last hidden layer: nodes become alike")
    fig.tight_layout()
    return fig


def embeddings_figure(embeddings: dict[str, Any]) -> Figure:
    """2-D maps of the raw features and each model's last hidden layer, coloured by class."""
    maps = embeddings["maps"]
    fig = Figure(figsize=(4.2 * len(maps), 4.2))
    for ax, (name, xy) in zip(np.atleast_1d(fig.subplots(1, len(maps))), maps.items()):
        ax.scatter(*xy.T, c=embeddings["y"], cmap="tab10", vmin=0, vmax=9, s=3)
        ax.set_title(f"{name} ({embeddings['method']})")
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def attention_figure(attention: dict[str, Any]) -> Figure:
    """A node's neighbourhood: edge width and label = GAT attention α_ij (first layer, mean
    over heads) on edges into each node; colour = true class, ring = wrong prediction."""
    nodes = sorted(set(attention["src"].tolist()) | set(attention["dst"].tolist()))
    pos = _layout(np.stack([attention["src"], attention["dst"]]), nodes)
    fig = Figure(figsize=(6.5, 6))
    ax = fig.subplots()
    centre = attention["centre"]
    for a, b, alpha in zip(attention["src"], attention["dst"], attention["alpha"]):
        if a == b or b != centre:
            continue
        ax.annotate("", xy=pos[b], xytext=pos[a], arrowprops={"arrowstyle": "-|>", "lw": 0.5 + 8 * alpha,
                                                                 "color": "tab:orange", "alpha": 0.8})
        ax.text(*((pos[a] + pos[b]) / 2), f"{alpha:.2f}", fontsize=8)
    for a, b in zip(attention["src"], attention["dst"]):
        if a != b and centre not in (a, b):
            ax.plot(*np.array([pos[a], pos[b]]).T, color="0.85", lw=0.5, zorder=0)
    xy = np.array([pos[n] for n in nodes])
    classes = attention["y"][nodes]
    ax.scatter(*xy.T, c=classes, cmap="tab10", vmin=0, vmax=9, s=[300 if n == centre else 80 for n in nodes], zorder=2)
    wrong = [n for n in nodes if attention["predicted"][n] != attention["y"][n]]
    if wrong:
        ax.scatter(*np.array([pos[n] for n in wrong]).T, facecolors="none", edgecolors="red", s=200, zorder=3)
    self_alpha = attention["alpha"][(attention["src"] == centre) & (attention["dst"] == centre)]
    ax.set_title(f"GAT attention into node {centre} (self-loop α = {float(self_alpha[0]):.2f})")
    ax.axis("off")
    return fig


def race_figure(race: pd.DataFrame) -> Figure:
    """Milliseconds per training epoch, ours against PyG's layers."""
    fig = Figure(figsize=(6, 3.6))
    ax = fig.subplots()
    at = np.arange(len(race))
    ax.bar(at - 0.2, race["ours_ms"], 0.4, label="ours (layers.py)")
    ax.bar(at + 0.2, race["pyg_ms"], 0.4, label="PyG (GCNConv / GATConv)")
    for i, row in enumerate(race.itertuples()):
        ax.text(i, max(row.ours_ms, row.pyg_ms) * 1.03, f"PyG/ours = {row.speed_ratio:.2f}", ha="center", fontsize=8)
    ax.set_xticks(at, race["layer"])
    ax.set_ylabel("ms per training epoch")
    ax.set_title(f"One epoch on {race['dataset'].iloc[0]} ({int(race['threads'].iloc[0])} CPU thread)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
