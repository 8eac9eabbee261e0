"""The Transformer (Vaswani et al., 2017) with pre-norm blocks, and a character-level GPT.

Positions. Attention ignores order, so each position p adds a vector to its token's embedding:

    sinusoidal:  PE[p, 2i] = sin(p / 10000^(2i/d)),  PE[p, 2i+1] = cos(p / 10000^(2i/d))
    learned:     PE[p] = a trained embedding row (GPT-2's choice; no meaning past max_len)

Pre-norm blocks (Xiong et al., 2020; GPT-2): the residual stream x is never normalised,
each sublayer reads a normalised copy, which keeps early training stable without warm-up tricks::

    x = x + SelfAttention(LN(x))            (causal in a decoder: position t sees 0..t)
    x = x + CrossAttention(LN(x), memory)   (decoder of an encoder-decoder only)
    x = x + W_2 GELU(W_1 LN(x))

The output is LN(x) after the last block, then a linear map to the vocabulary.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from dl_roadmap.text.attention import MultiHeadAttention, causal_mask
from dl_roadmap.text.vocab import BOS, PAD

Positions = Literal["sinusoidal", "learned"]


def sinusoidal_table(length: int, dim: int) -> torch.Tensor:
    """(length, dim): PE[p, 2i] = sin(p w_i), PE[p, 2i+1] = cos(p w_i), w_i = 10000^(-2i/d)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate)[:, : dim // 2]
    return table


class PositionalEncoding(nn.Module):
    """Adds a sinusoidal (fixed) or learned vector per position to (N, L, d) embeddings."""

    def __init__(self, kind: Positions, max_len: int, dim: int):
        super().__init__()
        if kind not in ("sinusoidal", "learned"):
            raise ValueError(f"positions must be sinusoidal or learned, got {kind!r}")
        self.kind, self.max_len = kind, max_len
        if kind == "learned":
            self.table = nn.Parameter(torch.randn(max_len, dim) * 0.02)
        else:
            self.register_buffer("table", sinusoidal_table(max_len, dim), persistent=False)

    def forward(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        if start + x.size(1) > self.max_len:
            raise ValueError(f"position {start + x.size(1) - 1} past the longest known ({self.max_len - 1})")
        return x + self.table[start: start + x.size(1)]


class FeedForward(nn.Sequential):
    def __init__(self, dim: int, dropout: float, expansion: int = 4):
        super().__init__(nn.Linear(dim, expansion * dim), nn.GELU(), nn.Linear(expansion * dim, dim), nn.Dropout(dropout))


class Block(nn.Module):
    """One pre-norm block: self-attention (+ cross-attention when ``cross``) + feed-forward."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0, cross: bool = False):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), MultiHeadAttention(dim, heads, dropout)
        self.cross = MultiHeadAttention(dim, heads, dropout) if cross else None
        self.norm_cross = nn.LayerNorm(dim) if cross else None
        self.norm2, self.ff = nn.LayerNorm(dim), FeedForward(dim, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, *, mask: torch.Tensor | None = None, key_padding: torch.Tensor | None = None,
                memory: torch.Tensor | None = None, memory_padding: torch.Tensor | None = None,
                cache: dict | None = None, keep_weights: bool = False) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), mask=mask, key_padding=key_padding, cache=cache))
        if self.cross is not None:
            x = x + self.drop(self.cross(self.norm_cross(x), memory, key_padding=memory_padding,
                                         keep_weights=keep_weights))
        return x + self.ff(self.norm2(x))


class Seq2SeqTransformer(nn.Module):
    """Encoder-decoder Transformer with the interface of recurrent.GRUSeq2Seq:
    ``model(src, target_in)`` -> logits, ``model.greedy(src, steps)`` -> (ids, cross-attention)."""

    def __init__(self, in_vocab: int, out_vocab: int, dim: int = 128, heads: int = 4, encoder_layers: int = 2,
                 decoder_layers: int = 2, dropout: float = 0.0, positions: Positions = "sinusoidal",
                 max_len: int = 128):
        super().__init__()
        self.dim = dim
        self.src_embed = nn.Embedding(in_vocab, dim, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(out_vocab, dim, padding_idx=PAD)
        self.src_pos, self.tgt_pos = PositionalEncoding(positions, max_len, dim), PositionalEncoding(positions, max_len, dim)
        self.encoder = nn.ModuleList(Block(dim, heads, dropout) for _ in range(encoder_layers))
        self.decoder = nn.ModuleList(Block(dim, heads, dropout, cross=True) for _ in range(decoder_layers))
        self.enc_norm, self.dec_norm = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.out = nn.Linear(dim, out_vocab)
        self.drop = nn.Dropout(dropout)
        for embedding in (self.src_embed, self.tgt_embed):
            # N(0, 1/d) rows times sqrt(d) (as in the paper) give unit-scale token vectors, the
            # scale of the positions' sines; PyTorch's N(0, 1) rows would drown the positions.
            nn.init.normal_(embedding.weight, 0.0, dim ** -0.5)

    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        padding = src == PAD
        x = self.drop(self.src_pos(self.src_embed(src) * math.sqrt(self.dim)))
        for block in self.encoder:
            x = block(x, key_padding=padding)
        return self.enc_norm(x), padding

    def decode(self, memory: torch.Tensor, padding: torch.Tensor, target_in: torch.Tensor,
               keep_weights: bool = False) -> torch.Tensor:
        x = self.drop(self.tgt_pos(self.tgt_embed(target_in) * math.sqrt(self.dim)))
        mask = causal_mask(target_in.size(1), device=target_in.device)
        for block in self.decoder:
            x = block(x, mask=mask, memory=memory, memory_padding=padding, keep_weights=keep_weights)
        return self.out(self.dec_norm(x))

    def forward(self, src: torch.Tensor, target_in: torch.Tensor) -> torch.Tensor:
        return self.decode(*self.encode(src), target_in)

    @torch.no_grad()
    def greedy(self, src: torch.Tensor, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Greedy decoding from BOS; the weights are the last decoder block's cross-attention
        (mean over heads) at the last step, (N, steps, L)."""
        memory, padding = self.encode(src)
        ys = torch.full((src.size(0), 1), BOS, dtype=torch.long, device=src.device)
        for t in range(steps):
            logits = self.decode(memory, padding, ys, keep_weights=t == steps - 1)
            ys = torch.cat([ys, logits[:, -1].argmax(-1, keepdim=True)], 1)
        weights = self.decoder[-1].cross.last_weights.mean(1)
        return ys[:, 1:], weights


class GPT(nn.Module):
    """A decoder-only Transformer language model (GPT-2 layout, as in nanoGPT): token +
    position embeddings, causal pre-norm blocks, final LayerNorm, output tied to the token
    embedding. ``caches`` (one dict per block) make a forward pass over new tokens reuse the
    keys and values of the ``past`` tokens already processed."""

    def __init__(self, vocab: int, block_size: int = 64, layers: int = 4, heads: int = 4, dim: int = 128,
                 dropout: float = 0.0, positions: Positions = "learned"):
        super().__init__()
        self.block_size = block_size
        self.token = nn.Embedding(vocab, dim)
        self.position = PositionalEncoding(positions, block_size, dim)
        self.blocks = nn.ModuleList(Block(dim, heads, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        self.head.weight = self.token.weight  # weight tying (Press & Wolf, 2017)
        self.drop = nn.Dropout(dropout)
        self.apply(self._init)
        for name, parameter in self.named_parameters():
            if name.endswith(("out_proj.weight", "ff.2.weight")):
                # GPT-2: residual projections scaled by 1/sqrt(2 * layers), so the stream's
                # variance does not grow with depth.
                nn.init.normal_(parameter, 0.0, 0.02 / math.sqrt(2 * layers))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor, caches: list[dict] | None = None, past: int = 0) -> torch.Tensor:
        """idx (N, L) token ids at positions past..past+L-1 -> logits (N, L, V)."""
        x = self.drop(self.position(self.token(idx), start=past))
        mask = causal_mask(idx.size(1), past, device=idx.device)
        for i, block in enumerate(self.blocks):
            x = block(x, mask=mask, cache=None if caches is None else caches[i])
        return self.head(self.norm(x))

    def loss(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean next-character cross-entropy (nats)."""
        logits = self(idx)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
