"""Cora and CiteSeer in the Planetoid split, and Zachary's karate club.

``source: embedded`` (the offline default) reads ``planetoid/<name>.npz``, converted once
from the upstream files by ``planetoid/convert.py`` and checked against
``planetoid/SHA256SUMS`` on every load; ``source: pyg`` downloads through PyTorch
Geometric's ``Planetoid`` (network needed) into ``<data_root>/01_raw/planetoid``. Both give
the same dict of arrays: ``x`` (V, F) float32, ``edge_index`` (2, E) int64 (both
directions), ``y`` (V,), ``train_index`` / ``val_index`` / ``test_index`` and ``name``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

EMBEDDED = Path(__file__).resolve().parent / "planetoid"
SIZES = {"cora": (2708, 1433, 7), "citeseer": (3327, 3703, 6)}  # nodes, features, classes (Yang et al. 2016)


def expected_sums(folder: Path = EMBEDDED) -> dict[str, str]:
    lines = (folder / "SHA256SUMS").read_text().split("\n")
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def read_embedded(name: str, folder: Path = EMBEDDED) -> dict[str, Any]:
    """The embedded copy of ``name``, refused with the file's name if its SHA-256 differs."""
    path = folder / f"{name}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no embedded copy of the {name!r} graph")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected_sums(folder).get(path.name):
        raise ValueError(f"{path}: SHA-256 {digest} differs from {folder / 'SHA256SUMS'}; re-run planetoid/convert.py")
    with np.load(path, allow_pickle=False) as arrays:
        raw = dict(arrays)
    x = np.zeros(tuple(raw["shape"]), dtype=np.float32)
    x[raw["feature_rows"], raw["feature_cols"]] = raw.get("feature_values", 1.0)
    return checked({"name": name, "x": x, "edge_index": raw["edge_index"].astype(np.int64), "y": raw["y"],
                    **{f"{s}_index": raw[f"{s}_index"] for s in ("train", "val", "test")}}, str(path))


def read_pyg(name: str, root: str) -> dict[str, Any]:
    """The same graph through PyG's ``Planetoid`` downloader (public split)."""
    from torch_geometric.datasets import Planetoid

    data = Planetoid(root, name=name.capitalize() if name == "cora" else "CiteSeer")[0]
    return checked({"name": name, "x": data.x.numpy().astype(np.float32), "edge_index": data.edge_index.numpy(),
                    "y": data.y.numpy(), **{f"{s}_index": np.flatnonzero(getattr(data, f"{s}_mask").numpy())
                                           for s in ("train", "val", "test")}}, f"{root}/{name}")


def checked(graph: dict[str, Any], where: str) -> dict[str, Any]:
    """Sizes, label range, edge range and disjoint splits, failing with ``where`` and the problem."""
    nodes, features, classes = SIZES[graph["name"]]
    problems = []
    if graph["x"].shape != (nodes, features):
        problems.append(f"features {graph['x'].shape}, expected {(nodes, features)}")
    if graph["y"].shape != (nodes,) or graph["y"].min() < 0 or graph["y"].max() >= classes:
        problems.append(f"labels must be {nodes} values in 0..{classes - 1}")
    edges = graph["edge_index"]
    if edges.ndim != 2 or edges.shape[0] != 2 or edges.min() < 0 or edges.max() >= nodes:
        problems.append(f"edge_index must be (2, E) with node ids in 0..{nodes - 1}")
    splits = [set(graph[f"{s}_index"].tolist()) for s in ("train", "val", "test")]
    if any(a & b for i, a in enumerate(splits) for b in splits[i + 1:]):
        problems.append("train, val and test nodes overlap")
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))
    graph["num_classes"] = classes
    return graph


def row_normalized(x: np.ndarray) -> np.ndarray:
    """Each node's features divided by their sum (both papers' preprocessing); empty rows stay 0."""
    total = x.sum(axis=1, keepdims=True)
    return np.divide(x, total, out=np.zeros_like(x), where=total > 0)


def karate_club() -> dict[str, Any]:
    """Zachary's karate club as PyG ships it: 34 members, 4 communities, one labelled member each."""
    from torch_geometric.datasets import KarateClub

    data = KarateClub()[0]
    train = np.flatnonzero(data.train_mask.numpy())
    return {"name": "karate", "x": data.x.numpy().astype(np.float32), "edge_index": data.edge_index.numpy(),
            "y": data.y.numpy(), "train_index": train, "val_index": np.setdiff1d(np.arange(34), train),
            "test_index": np.setdiff1d(np.arange(34), train), "num_classes": int(data.y.max()) + 1}
