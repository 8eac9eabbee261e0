"""GCN and GAT layers from their equations, on sparse operations (labml style: the maths
beside the code). A graph is ``edge_index`` (2, E): messages flow from ``edge_index[0]``
(source j) to ``edge_index[1]`` (target i); an undirected graph lists both directions.

**GCN** (Kipf & Welling, ICLR 2017, eq. 2): with self-loops added, Ã = A + I and
D̃_ii = Σ_j Ã_ij, one layer is

    H' = D̃^{-1/2} Ã D̃^{-1/2} H W + b

The renormalised adjacency Â = D̃^{-1/2} Ã D̃^{-1/2} is built once per graph as a sparse
CSR matrix (V x V, E + V non-zeros) and each layer is one dense product and one
sparse-dense product. H W comes first: it shrinks the width before the sparse product.

**GAT** (Veličković et al., ICLR 2018, eqs. 1-5): per head k, a shared linear map W^k and
an attention vector a^k = [a_dst^k ‖ a_src^k] score every edge j -> i (self-loops included):

    e_ij  = LeakyReLU_{0.2}( a^kᵀ [W^k h_i ‖ W^k h_j] )
          = LeakyReLU_{0.2}( a_dstᵀ W^k h_i + a_srcᵀ W^k h_j )      (split: two dot products per node, not per edge)
    α_ij  = exp(e_ij) / Σ_{l ∈ N(i) ∪ {i}} exp(e_il)                (softmax over each node's in-edges)
    h_i'  = ‖_k  Σ_j α_ij^k W^k h_j        (hidden layers: heads concatenated)
    h_i'  = 1/K Σ_k Σ_j α_ij^k W^k h_j     (output layer: heads averaged)

The per-node softmax is a scatter: subtract each target's maximum (for stability), exponentiate,
divide by each target's sum. Dropout on α (the paper's 0.6) means each node sees a random
subset of its neighbours in training.

**Label propagation** (Zhou et al., NIPS 2004; the baseline of both papers):
Y^{t+1} = α S Y^t + (1 - α) Y^0, S = D^{-1/2} A D^{-1/2} (no self-loops), Y^0 the one-hot training labels (zero elsewhere).
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn


def with_self_loops(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Ã = A + I as an edge list: existing self-loops removed first, then one per node."""
    keep = edge_index[0] != edge_index[1]
    loops = torch.arange(num_nodes, device=edge_index.device).repeat(2, 1)
    return torch.cat([edge_index[:, keep], loops], dim=1)


def normalized_adjacency(edge_index: torch.Tensor, num_nodes: int, self_loops: bool = True) -> torch.Tensor:
    """Â = D̃^{-1/2} Ã D̃^{-1/2}, sparse CSR (V, V); row i gathers from i's in-neighbours.
    Without ``self_loops``: D^{-1/2} A D^{-1/2} (label propagation; isolated nodes get 0)."""
    src, dst = with_self_loops(edge_index, num_nodes) if self_loops else edge_index
    degree = torch.zeros(num_nodes).index_add_(0, dst, torch.ones(dst.numel()))  # D̃_ii, in-degree (+ 1)
    inv_sqrt = degree.pow(-0.5).masked_fill(degree == 0, 0.0)
    values = inv_sqrt[dst] * inv_sqrt[src]
    with warnings.catch_warnings():  # torch calls its sparse CSR support beta; the product used here is stable
        warnings.simplefilter("ignore", UserWarning)
        coo = torch.sparse_coo_tensor(torch.stack([dst, src]), values, (num_nodes, num_nodes))
        return coo.coalesce().to_sparse_csr()


class AdjacencyProduct(torch.autograd.Function):
    """Y = Â X with the backward dL/dX = Âᵀ dL/dY read from a stored Âᵀ (CSR): torch's own
    backward of a CSR product transposes and re-sorts Â on every call."""

    @staticmethod
    def forward(ctx, adjacency: torch.Tensor, adjacency_t: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        ctx.adjacency_t = adjacency_t
        return torch.sparse.mm(adjacency, dense)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[None, None, torch.Tensor]:
        return None, None, torch.sparse.mm(ctx.adjacency_t, grad)


def transposed(adjacency: torch.Tensor) -> torch.Tensor:
    """Âᵀ as CSR (equal to Â when every edge is listed both ways, as in Cora and CiteSeer)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return adjacency.to_sparse_coo().t().coalesce().to_sparse_csr()


class GraphCache:
    """One (Â, Âᵀ) per graph, kept out of the module's state (derived, not learned) and
    rebuilt when a different edge list arrives."""

    def __init__(self) -> None:
        self.edges: torch.Tensor | None = None  # the edge list the entry was built from (kept, compared by identity)
        self.key: tuple | None = None
        self.value: tuple[torch.Tensor, torch.Tensor] | None = None

    def get(self, edge_index: torch.Tensor, num_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
        key = (edge_index._version, num_nodes)
        if self.edges is not edge_index or key != self.key:
            adjacency = normalized_adjacency(edge_index, num_nodes)
            self.edges, self.key, self.value = edge_index, key, (adjacency, transposed(adjacency))
        return self.value

    def __deepcopy__(self, memo: dict) -> GraphCache:  # a copied model rebuilds its own
        return GraphCache()

    def __getstate__(self) -> dict:  # nor is Â pickled with the model
        return {"edges": None, "key": None, "value": None}


class GCNLayer(nn.Module):
    """H' = Â H W + b (``lin.weight`` is Wᵀ, as torch and PyG's GCNConv store it)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.lin = nn.Linear(in_features, out_features, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        nn.init.xavier_uniform_(self.lin.weight)  # Glorot, as in the paper
        self.cache = GraphCache()

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        adjacency, adjacency_t = self.cache.get(edge_index, h.shape[0])
        out = AdjacencyProduct.apply(adjacency, adjacency_t, self.lin(h))  # Â (H W)
        return out + self.bias if self.bias is not None else out


class GATLayer(nn.Module):
    """One multi-head graph attention layer (eqs. above); ``concat`` for hidden layers,
    head mean for the output layer. Returns the attention α (E', heads) when asked."""

    def __init__(self, in_features: int, out_features: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2, dropout: float = 0.0) -> None:
        super().__init__()
        self.heads, self.out_features, self.concat = heads, out_features, concat
        self.negative_slope, self.dropout = negative_slope, dropout
        self.lin = nn.Linear(in_features, heads * out_features, bias=False)  # all W^k side by side
        self.att_src = nn.Parameter(torch.empty(1, heads, out_features))
        self.att_dst = nn.Parameter(torch.empty(1, heads, out_features))
        self.bias = nn.Parameter(torch.zeros(heads * out_features if concat else out_features))
        for weight in (self.lin.weight, self.att_src, self.att_dst):
            nn.init.xavier_uniform_(weight)

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor,
                return_attention: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        num_nodes = h.shape[0]
        src, dst = edges = with_self_loops(edge_index, num_nodes)  # N(i) ∪ {i}
        wh = self.lin(h).view(num_nodes, self.heads, self.out_features)  # W^k h, (V, K, C)
        score_src = (wh * self.att_src).sum(-1)  # a_srcᵀ W^k h_j, (V, K)
        score_dst = (wh * self.att_dst).sum(-1)  # a_dstᵀ W^k h_i
        e = F.leaky_relu(score_src[src] + score_dst[dst], self.negative_slope)  # e_ij, (E', K)
        alpha = segment_softmax(e, dst, num_nodes)  # α_ij
        alpha_used = F.dropout(alpha, self.dropout, self.training)
        out = torch.zeros_like(wh).index_add_(0, dst, alpha_used.unsqueeze(-1) * wh[src])  # Σ_j α_ij W^k h_j
        out = out.reshape(num_nodes, -1) if self.concat else out.mean(dim=1)
        out = out + self.bias
        return (out, edges, alpha) if return_attention else out


def segment_softmax(e: torch.Tensor, index: torch.Tensor, num_segments: int) -> torch.Tensor:
    """softmax of ``e`` (E, K) within each group of rows sharing ``index`` (E,)."""
    expanded = index.unsqueeze(-1).expand_as(e)
    peak = torch.full((num_segments, e.shape[1]), -math.inf, dtype=e.dtype, device=e.device)
    peak = peak.scatter_reduce(0, expanded, e, reduce="amax", include_self=True)
    weight = (e - peak[index].detach()).exp()  # the shift cancels in the ratio: no gradient needed through it
    total = torch.zeros_like(peak).index_add_(0, index, weight)
    return weight / total[index]


def label_propagation(edge_index: torch.Tensor, labels: torch.Tensor, train_index: torch.Tensor,
                      num_classes: int, steps: int = 50, alpha: float = 0.9) -> torch.Tensor:
    """Y^{t+1} = α S Y^t + (1 - α) Y^0, clipped to [0, 1] (as PyG's LabelPropagation);
    returns Y after ``steps`` rounds (V, classes)."""
    num_nodes = labels.shape[0]
    adjacency = normalized_adjacency(edge_index, num_nodes, self_loops=False)
    seed = torch.zeros(num_nodes, num_classes)
    seed[train_index] = F.one_hot(labels[train_index], num_classes).float()
    out = seed
    for _ in range(steps):
        out = (alpha * torch.sparse.mm(adjacency, out) + (1 - alpha) * seed).clamp(0, 1)
    return out
