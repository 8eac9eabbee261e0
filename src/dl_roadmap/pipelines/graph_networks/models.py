"""Node classifiers: GCN, GAT and an MLP that ignores the graph, from ``layers.py`` (ours)
or PyTorch Geometric's ``GCNConv`` / ``GATConv`` (``impl: pyg``, the reference) with the
same structure, so both race and train the same network.

A model keeps the graph it was trained on as a buffer: ``model(x)`` takes the node features
(V, F) of that graph and returns class logits (V, classes) for every node, which is what
the MLflow model, the explain stage and a user call. ``model(x, edge_index)`` runs it on
another graph with the same features.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.pipelines.graph_networks.layers import GATLayer, GCNLayer


def graph_layer(kind: str, impl: str, in_features: int, out_features: int, heads: int = 1,
                concat: bool = True, attention_dropout: float = 0.0) -> nn.Module:
    """One GCN or GAT layer, ours or PyG's (PyG's GCN caches Â, as ours does)."""
    if impl == "pyg":
        from torch_geometric.nn import GATConv, GCNConv

        if kind == "gcn":
            return GCNConv(in_features, out_features, cached=True)
        return GATConv(in_features, out_features, heads=heads, concat=concat, dropout=attention_dropout)
    if kind == "gcn":
        return GCNLayer(in_features, out_features)
    return GATLayer(in_features, out_features, heads=heads, concat=concat, dropout=attention_dropout)


class NodeClassifier(nn.Module):
    """``layers`` graph layers (or Linear for ``mlp``): input -> hidden -> ... -> classes.

    Dropout before every layer; ReLU (GCN, MLP) or ELU (GAT, as in its paper) between them.
    With ``residual``, each hidden -> hidden layer adds its input: h_{l+1} = h_l + σ(layer(h_l)),
    the simplest cure of over-smoothing to try (first and last layer change width and have none).
    GAT's hidden layers concatenate ``heads`` heads of ``hidden`` units; its output layer
    averages ``output_heads`` heads.
    """

    def __init__(self, kind: str, in_features: int, classes: int, hidden: int = 16, layers: int = 2,
                 dropout: float = 0.5, heads: int = 8, output_heads: int = 1, attention_dropout: float = 0.6,
                 residual: bool = False, impl: str = "ours", edge_index: torch.Tensor | None = None) -> None:
        super().__init__()
        if kind not in ("gcn", "gat", "mlp") or impl not in ("ours", "pyg"):
            raise ValueError(f"unknown model kind {kind!r} or implementation {impl!r}")
        self.kind, self.dropout, self.residual = kind, dropout, residual
        width = hidden * heads if kind == "gat" else hidden
        sizes = [in_features] + [width] * (layers - 1) + [classes]
        self.layers = nn.ModuleList()
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            last = i == layers - 1
            if kind == "mlp":
                self.layers.append(nn.Linear(n_in, n_out))
            elif kind == "gat":
                self.layers.append(graph_layer("gat", impl, n_in, classes if last else hidden,
                                               heads=output_heads if last else heads, concat=not last,
                                               attention_dropout=attention_dropout))
            else:
                self.layers.append(graph_layer("gcn", impl, n_in, n_out))
        self.register_buffer("edge_index", torch.zeros(2, 0, dtype=torch.long) if edge_index is None
                             else torch.as_tensor(edge_index, dtype=torch.long))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor | None = None,
                return_hidden: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        edges = self.edge_index if edge_index is None else edge_index
        activation = F.elu if self.kind == "gat" else F.relu
        h, hidden = x, x
        for i, layer in enumerate(self.layers):
            last = i == len(self.layers) - 1
            if i == 0 and not h.requires_grad and h.layout == torch.strided:  # gradients to x (explain) need it dense
                dropped = sparse_input(h, self.dropout, self.training)
            else:
                dropped = F.dropout(h, self.dropout, self.training)
            out = layer(dropped, *(() if self.kind == "mlp" else (edges,)))
            if last:
                h = out
                break
            out = activation(out)
            h = h + out if self.residual and 0 < i else out
            hidden = h
        return (h, hidden) if return_hidden else h


def sparse_input(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """``x`` as a CSR matrix with dropout drawn only for its stored (non-zero) entries: a zero
    stays zero either way, so this is ``F.dropout``'s distribution at ~1% of the random
    numbers on bag-of-words features (Kipf & Welling's code does the same), and the first
    layer's X W becomes a sparse product (~49k non-zeros on Cora instead of 3.9M entries)."""
    csr = _csr(x)
    values = csr.values()
    if training and p > 0.0:
        values = values * ((torch.rand_like(values) >= p).to(values.dtype) / (1.0 - p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return torch.sparse_csr_tensor(csr.crow_indices(), csr.col_indices(), values, csr.shape)


_CSR: dict[str, Any] = {}


def _csr(x: torch.Tensor) -> torch.Tensor:
    """The CSR form of the last input seen (full-batch training feeds the same tensor every
    epoch). The entry keeps that tensor, so a hit means the very same tensor at the same
    version (an in-place change bumps it), never a new one at a reused address."""
    if _CSR.get("x") is not x or _CSR.get("version") != x._version:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            _CSR.update(x=x, version=x._version, csr=x.detach().to_sparse_csr())
    return _CSR["csr"]


def model_from_config(config: dict[str, Any], graph: dict[str, Any], impl: str = "ours") -> NodeClassifier:
    """The classifier of a training config's ``model`` block for ``graph`` (ingest's dict)."""
    return NodeClassifier(in_features=graph["x"].shape[1], classes=graph["num_classes"], impl=impl,
                          edge_index=torch.as_tensor(graph["edge_index"]), **config["model"])


def copy_into_pyg(ours: NodeClassifier) -> NodeClassifier:
    """A PyG-layer twin of ``ours`` holding the very same weights (names match layer by layer)."""
    config = {"kind": ours.kind, "dropout": ours.dropout, "residual": ours.residual}
    twin = NodeClassifier(in_features=1, classes=1, **config, layers=1, impl="pyg")  # replaced below
    twin.layers = nn.ModuleList()
    for layer in ours.layers:
        if isinstance(layer, GCNLayer):
            twin_layer = graph_layer("gcn", "pyg", layer.lin.in_features, layer.lin.out_features)
        elif isinstance(layer, GATLayer):
            twin_layer = graph_layer("gat", "pyg", layer.lin.in_features, layer.out_features, heads=layer.heads,
                                     concat=layer.concat, attention_dropout=layer.dropout)
        else:
            twin_layer = nn.Linear(layer.in_features, layer.out_features)
        twin_layer.load_state_dict(layer.state_dict())
        twin.layers.append(twin_layer)
    twin.edge_index = ours.edge_index.clone()
    return twin
