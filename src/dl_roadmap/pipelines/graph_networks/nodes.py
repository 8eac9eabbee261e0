"""Nodes of graph_networks: ingest the graphs, the seeded benchmark on Cora and CiteSeer,
the depth study, the pictures and the model handed to MLflow. Plain functions of plain
values; every training goes through ``train.train_node_classifier`` (the core loop)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from dl_roadmap.core.params import deep_merge
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.pipelines.graph_networks.data import karate_club, read_embedded, read_pyg, row_normalized
from dl_roadmap.pipelines.graph_networks.layers import label_propagation
from dl_roadmap.pipelines.graph_networks.models import model_from_config
from dl_roadmap.pipelines.graph_networks.race import race
from dl_roadmap.pipelines.graph_networks.train import train_node_classifier

logger = logging.getLogger(__name__)

# Test accuracy (%) published for the Planetoid split: Kipf & Welling 2017, Table 2 (GCN, and
# label propagation as they quote it); Veličković et al. 2018, Table 2 (GAT, and the MLP they quote).
PUBLISHED = {("cora", "gcn"): 81.5, ("citeseer", "gcn"): 70.3, ("cora", "gat"): 83.0, ("citeseer", "gat"): 72.5,
             ("cora", "label_propagation"): 68.0, ("citeseer", "label_propagation"): 45.3,
             ("cora", "mlp"): 55.1, ("citeseer", "mlp"): 46.5}


def ingest(params: dict[str, Any], trainer: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Each data set of ``params["datasets"]`` from ``params["source"]`` (embedded | pyg),
    features row-normalised; and a summary of what was read."""
    graphs, summary = {}, {"source": params["source"]}
    for name in params["datasets"]:
        graph = read_embedded(name) if params["source"] == "embedded" else read_pyg(name, f"{trainer['data_root']}/01_raw/planetoid")
        graph["x"] = row_normalized(graph["x"])
        graphs[name] = graph
        summary[name] = {"nodes": int(graph["x"].shape[0]), "features": int(graph["x"].shape[1]),
                         "edges": int(graph["edge_index"].shape[1] // 2), "classes": int(graph["num_classes"]),
                         **{s: int(len(graph[f"{s}_index"])) for s in ("train", "val", "test")}}
    return graphs, summary


def race_layers(graphs: dict[str, dict[str, Any]], params: dict[str, Any], bench: dict[str, Any]) -> pd.DataFrame:
    """ms per training epoch of the benchmark's GCN and GAT, our layers against PyG's (race.py)."""
    settings = {k: v for k, v in params.items() if k != "dataset"}
    return race(graphs[params["dataset"]], {k: bench["models"][k] for k in ("gcn", "gat")}, **settings)


def benchmark(
    graphs: dict[str, dict[str, Any]], params: dict[str, Any], trainer: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, nn.Module]]:
    """Every model of ``params["models"]`` on every graph for every seed, and label propagation.

    Returns:
        One row per (dataset, method, seed); the mean ± std table beside the published
        figures; and the seed-0 models on each graph (``<dataset>_<method>``).
    """
    rows, models = [], {}
    for name, graph in graphs.items():
        y = torch.as_tensor(graph["y"])
        scores = label_propagation(torch.as_tensor(graph["edge_index"]), y, torch.as_tensor(graph["train_index"]),
                                   graph["num_classes"], **params["label_propagation"])
        for split in ("val", "test"):
            index = torch.as_tensor(graph[f"{split}_index"])
            acc = float((scores[index].argmax(1) == y[index]).float().mean())
            if split == "val":
                val = acc
        rows.append({"dataset": name, "method": "label_propagation", "seed": 0, "val_acc": val, "test_acc": acc,
                     "epochs": 0, "seconds": 0.0})
        for method, config in params["models"].items():
            for seed in params["seeds"]:
                model, _, result = train_node_classifier(lambda: model_from_config(config, graph), graph, config,
                                                         trainer, f"{name}/{method}/seed{seed}", seed)
                rows.append({"dataset": name, "method": method, "seed": seed, **result})
                if seed == params["seeds"][0]:
                    models[f"{name}_{method}"] = model
            logger.info("%s %s: test accuracy %.3f", name, method,
                        np.mean([r["test_acc"] for r in rows if r["dataset"] == name and r["method"] == method]))
    table = pd.DataFrame(rows)
    return table, summary_table(table), models


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std (%) of the test accuracy over seeds, beside the published figure."""
    grouped = runs.groupby(["dataset", "method"], sort=False)["test_acc"]
    table = pd.DataFrame({"test_acc_mean": grouped.mean() * 100, "test_acc_std": grouped.std(ddof=0).fillna(0) * 100,
                          "seeds": grouped.count()}).reset_index()
    table["published"] = [PUBLISHED.get((d, m), np.nan) for d, m in zip(table["dataset"], table["method"])]
    table["gap"] = table["test_acc_mean"] - table["published"]
    return table


def depth_study(
    graphs: dict[str, dict[str, Any]], params: dict[str, Any], trainer: dict[str, Any]
) -> pd.DataFrame:
    """Over-smoothing: a GCN of each depth, plain and residual, on ``params["dataset"]``.

    Returns:
        One row per (depth, residual, seed): val/test accuracy, and the mean cosine
        similarity of the final hidden node features (near 1 = all nodes look alike).
    """
    graph, rows = graphs[params["dataset"]], []
    x = torch.as_tensor(graph["x"])
    for depth in params["depths"]:
        for residual in params["residual"]:
            config = deep_merge(params["config"], {"model": {"layers": depth, "residual": residual}})
            for seed in params["seeds"]:
                model, _, result = train_node_classifier(lambda: model_from_config(config, graph), graph, config,
                                                         trainer, f"depth/{depth}/{'res' if residual else 'plain'}", seed)
                with torch.no_grad():
                    _, hidden = model(x, return_hidden=True)
                rows.append({"depth": depth, "residual": residual, "seed": seed,
                             "similarity": mean_cosine(hidden), **result})
    return pd.DataFrame(rows)


def mean_cosine(h: torch.Tensor, sample: int = 500) -> float:
    """Mean pairwise cosine similarity of ``sample`` node vectors (fixed choice)."""
    index = torch.randperm(h.shape[0], generator=torch.Generator().manual_seed(0))[:sample]
    unit = torch.nn.functional.normalize(h[index], dim=1)
    return float((unit @ unit.T).mean())


def karate(params: dict[str, Any], trainer: dict[str, Any]) -> dict[str, Any]:
    """A 2-D GCN on Zachary's karate club, one labelled member per community: the graph, the
    classes, the learned 2-D node features and the predictions (for the first picture)."""
    graph = karate_club()
    model, _, result = train_node_classifier(lambda: model_from_config(params, graph), graph, params, trainer,
                                             "karate", params.get("seed", 0))
    with torch.no_grad():
        logits, hidden = model(torch.as_tensor(graph["x"]), return_hidden=True)
    return {"edge_index": graph["edge_index"], "y": graph["y"], "train_index": graph["train_index"],
            "hidden": hidden.numpy(), "predicted": logits.argmax(1).numpy(), "test_acc": result["test_acc"]}


def embeddings(graphs: dict[str, dict[str, Any]], models: dict[str, nn.Module], params: dict[str, Any]) -> dict[str, Any]:
    """2-D maps (t-SNE or PCA) of the raw features and of each model's last hidden layer on
    ``params["dataset"]``'s 1,000 test nodes (never trained on; t-SNE of all 2,708 takes a
    minute per map on one core), with the true classes."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    graph = graphs[params["dataset"]]
    x, nodes = torch.as_tensor(graph["x"]), graph["test_index"]
    views = {"features": x.numpy()[nodes]}
    for method in params["methods"]:
        with torch.no_grad():
            views[method] = models[f"{params['dataset']}_{method}"](x, return_hidden=True)[1].numpy()[nodes]
    maps = {}
    for name, values in views.items():
        reduced = PCA(n_components=min(50, values.shape[1]), random_state=0).fit_transform(values)
        maps[name] = (TSNE(2, init="pca", random_state=0, perplexity=30, max_iter=500).fit_transform(reduced)
                      if params["method"] == "tsne" else reduced[:, :2])
    return {"maps": maps, "y": graph["y"][nodes], "method": params["method"]}


def attention(graphs: dict[str, dict[str, Any]], models: dict[str, nn.Module], params: dict[str, Any]) -> dict[str, Any]:
    """The first GAT layer's attention (mean over heads) on the in-edges of ``params["node"]``
    and of its neighbours, from the seed-0 GAT on ``params["dataset"]``."""
    graph = graphs[params["dataset"]]
    model = models[f"{params['dataset']}_gat"]
    layer = model.layers[0]
    with torch.no_grad():
        _, edges, alpha = layer(torch.as_tensor(graph["x"]), model.edge_index, return_attention=True)
    centre = int(params["node"])
    src, dst = edges.numpy()
    neighbours = set(src[dst == centre].tolist()) | {centre}
    keep = np.isin(dst, list(neighbours)) & np.isin(src, list(neighbours))
    return {"centre": centre, "src": src[keep], "dst": dst[keep], "alpha": alpha.mean(1).numpy()[keep],
            "y": graph["y"], "predicted": model(torch.as_tensor(graph["x"])).argmax(1).detach().numpy()}


def summary_metrics(summary: pd.DataFrame, depth: pd.DataFrame, race: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The headline figures as MLflow metrics."""
    values: dict[str, float] = {}
    for row in summary.itertuples():
        values[f"{row.dataset}_{row.method}_test_acc_mean"] = row.test_acc_mean
        values[f"{row.dataset}_{row.method}_test_acc_std"] = row.test_acc_std
    for row in depth.groupby(["depth", "residual"])["test_acc"].mean().reset_index().itertuples():
        values[f"depth{row.depth}_{'residual' if row.residual else 'plain'}_test_acc"] = row.test_acc
    for row in race.itertuples():
        values[f"race_{row.layer}_speed_ratio"] = row.speed_ratio
    return metrics_for_mlflow(values)


def pick_model(models: dict[str, nn.Module], name: str) -> nn.Module:
    """The model handed to MLflow and to the explain stage (``name``: '<dataset>_<method>', e.g. cora_gcn)."""
    return models[name].eval()


def log_model(model: nn.Module) -> nn.Module:
    """The node classifier for MLflow: input the graph's row-normalised node features, float
    (V, F) (Cora: 2708 x 1433; the graph's edges are stored in the model, ``model(x, edge_index)``
    for another graph); output class logits (V, classes)."""
    return model.eval()


def neighbour_faithfulness(
    attributions: dict[str, Any], model: nn.Module, graphs: dict[str, dict[str, Any]], params: dict[str, Any]
) -> pd.DataFrame:
    """Do the neighbours the explanation ranks first decide the class? For each node the
    explain stage explained, cut the edges to the ``share`` of its neighbours with the largest
    |SHAP| (the stage's per-node scores) and, as the reference, to as many random neighbours
    (``random_draws`` draws); record the predicted class's probability before and after.

    Returns:
        One row per explained node with at least two neighbours.
    """
    graph = graphs[params["dataset"]]
    x, edges = torch.as_tensor(graph["x"]), torch.as_tensor(graph["edge_index"])
    rng = np.random.default_rng(params["seed"])
    model = model.eval()

    def probability(node: int, cls: int, cut: np.ndarray) -> float:
        drop = torch.as_tensor(np.isin(edges[0].numpy(), cut) & (edges[1].numpy() == node)
                               | np.isin(edges[1].numpy(), cut) & (edges[0].numpy() == node))
        with torch.no_grad():
            return float(torch.softmax(model(x, edges[:, ~drop]), dim=1)[node, cls])

    rows = []
    for node, cls, scores in zip(attributions["indices"], attributions["predicted"], attributions["shap_nodes"]):
        neighbours = np.unique(edges[0].numpy()[edges[1].numpy() == node])
        neighbours = neighbours[neighbours != node]
        if len(neighbours) < 2:
            continue
        k = max(1, int(round(params["share"] * len(neighbours))))
        top = neighbours[np.argsort(-np.abs(scores[neighbours]), kind="stable")[:k]]
        random_p = [probability(node, cls, rng.choice(neighbours, k, replace=False)) for _ in range(params["random_draws"])]
        rows.append({"node": int(node), "neighbours": len(neighbours), "cut": k, "p_intact": probability(node, cls, np.array([])),
                     "p_top_cut": probability(node, cls, top), "p_random_cut": float(np.mean(random_p))})
    table = pd.DataFrame(rows, columns=["node", "neighbours", "cut", "p_intact", "p_top_cut", "p_random_cut"])
    table["drop_top"] = table["p_intact"] - table["p_top_cut"]
    table["drop_random"] = table["p_intact"] - table["p_random_cut"]
    return table
