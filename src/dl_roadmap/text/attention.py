"""Attention, from its equations.

Scaled dot-product attention (Vaswani et al., 2017, eq. 1)::

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V

M is 0 where a query may look and -inf where it may not (padding, the future).

Multi-head attention runs h of those side by side on learned projections::

    head_i = Attention(X_q W_i^Q, X_kv W_i^K, X_kv W_i^V),  MultiHead = [head_1; ...; head_h] W^O

The recurrent decoders' attentions score one decoder state s against every encoder state h_j
and average the encoder states with the softmax of the scores (the context vector)::

    additive (Bahdanau et al., 2015):      e_j = v^T tanh(W s + U h_j)
    multiplicative (Luong et al., 2015):   e_j = s^T W h_j      ("general"; W = I is "dot")
    a = softmax(e),  c = sum_j a_j h_j
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None, dropout: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """q (..., Lq, d), k (..., Lk, d), v (..., Lk, dv); mask broadcastable to (..., Lq, Lk),
    True where attention is allowed. Returns (output (..., Lq, dv), weights (..., Lq, Lk));
    ``dropout`` drops attention weights (training only), as nn.MultiheadAttention does."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return F.dropout(weights, dropout) @ v if dropout else weights @ v, weights


def causal_mask(length: int, past: int = 0, device: torch.device | None = None) -> torch.Tensor:
    """(length, past + length) bool: query i (at position past + i) sees keys 0..past + i."""
    return torch.ones(length, past + length, dtype=torch.bool, device=device).tril(diagonal=past)


class MultiHeadAttention(nn.Module):
    """Multi-head attention with the parameter layout of ``torch.nn.MultiheadAttention``
    (one (3E, E) input projection, one output projection), so weights copy across.

    ``cache`` (a dict, for autoregressive decoding) keeps the keys and values of the
    positions already seen: a new token's query attends to them without recomputing them.
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.0):
        super().__init__()
        if dim % heads:
            raise ValueError(f"the width {dim} must be a multiple of the number of heads {heads}")
        self.dim, self.heads = dim, heads
        self.in_proj = nn.Linear(dim, 3 * dim)  # [W^Q; W^K; W^V] for all heads at once
        self.out_proj = nn.Linear(dim, dim)  # W^O
        self.dropout = dropout
        self.last_weights: torch.Tensor | None = None  # (N, h, Lq, Lk), kept when keep_weights

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # (N, L, E) -> (N, h, L, E/h)
        n, length, _ = x.shape
        return x.view(n, length, self.heads, self.dim // self.heads).transpose(1, 2)

    def forward(self, query: torch.Tensor, key_value: torch.Tensor | None = None, *,
                mask: torch.Tensor | None = None, key_padding: torch.Tensor | None = None,
                cache: dict[str, torch.Tensor] | None = None, keep_weights: bool = False) -> torch.Tensor:
        """query (N, Lq, E); key_value (N, Lk, E), None for self-attention; mask (Lq, Lk)
        True = allowed; key_padding (N, Lk) True = padding (ignored)."""
        w_q, w_k, w_v = self.in_proj.weight.chunk(3)
        b_q, b_k, b_v = self.in_proj.bias.chunk(3)
        source = query if key_value is None else key_value
        q = self._split(F.linear(query, w_q, b_q))
        k, v = self._split(F.linear(source, w_k, b_k)), self._split(F.linear(source, w_v, b_v))
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        allowed = None
        if mask is not None:
            allowed = mask[None, None]
        if key_padding is not None:
            keep = ~key_padding[:, None, None, :]
            allowed = keep if allowed is None else allowed & keep
        out, weights = scaled_dot_product_attention(q, k, v, allowed, self.dropout if self.training else 0.0)
        if keep_weights:
            self.last_weights = weights.detach()
        n, _, length, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(n, length, self.dim))

    @torch.no_grad()
    def copy_from(self, reference: nn.MultiheadAttention) -> MultiHeadAttention:
        """Take the weights of a ``torch.nn.MultiheadAttention`` (same width and heads)."""
        self.in_proj.weight.copy_(reference.in_proj_weight)
        self.in_proj.bias.copy_(reference.in_proj_bias)
        self.out_proj.weight.copy_(reference.out_proj.weight)
        self.out_proj.bias.copy_(reference.out_proj.bias)
        return self


class AdditiveAttention(nn.Module):
    """Bahdanau: e_j = v^T tanh(W s + U h_j)."""

    def __init__(self, query_dim: int, key_dim: int, hidden: int):
        super().__init__()
        self.w = nn.Linear(query_dim, hidden, bias=False)
        self.u = nn.Linear(key_dim, hidden)
        self.v = nn.Linear(hidden, 1, bias=False)

    def precompute(self, keys: torch.Tensor) -> torch.Tensor:
        """U h_j for every encoder state, once per sequence (it does not depend on s)."""
        return self.u(keys)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, projected: torch.Tensor,
                padding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """query (N, Dq), keys (N, L, Dk), projected = precompute(keys), padding (N, L).
        Returns context (N, Dk) and weights (N, L)."""
        scores = self.v(torch.tanh(self.w(query)[:, None] + projected)).squeeze(-1)
        weights = torch.softmax(scores.masked_fill(padding, float("-inf")), dim=-1)
        return (weights[:, :, None] * keys).sum(1), weights


class MultiplicativeAttention(nn.Module):
    """Luong "general": e_j = s^T W h_j (W maps encoder states to the decoder's width)."""

    def __init__(self, query_dim: int, key_dim: int):
        super().__init__()
        self.w = nn.Linear(key_dim, query_dim, bias=False)

    def precompute(self, keys: torch.Tensor) -> torch.Tensor:
        return self.w(keys)  # W h_j, once per sequence

    def forward(self, query: torch.Tensor, keys: torch.Tensor, projected: torch.Tensor,
                padding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = (projected @ query[:, :, None]).squeeze(-1)
        weights = torch.softmax(scores.masked_fill(padding, float("-inf")), dim=-1)
        return (weights[:, :, None] * keys).sum(1), weights
