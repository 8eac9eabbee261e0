"""GRU encoder-decoders, without attention and with additive or multiplicative attention.

Encoder (all three): a bidirectional GRU over the input characters x_1..x_L gives
h_j = [h_j^fwd; h_j^bwd] for every position. The decoder emits y_1..y_T one symbol at a time,
reading the previous symbol y_{t-1} (the true one while training: teacher forcing)::

    none     (Cho et al., 2014, "RNNencdec"): c = tanh(W [h_L^fwd; h_1^bwd]), fixed for all t
             s_t = GRU([E y_{t-1}; c], s_{t-1}),  p(y_t) = softmax(W_o [s_t; c; E y_{t-1}])
    additive (Bahdanau et al., 2015): c_t = attend(s_{t-1}, h)  (e_j = v^T tanh(W s + U h_j))
             s_t = GRU([E y_{t-1}; c_t], s_{t-1}),  p(y_t) = softmax(W_o [s_t; c_t; E y_{t-1}])
    luong    (Luong et al., 2015, "general" score, input feeding):
             s_t = GRU([E y_{t-1}; s~_{t-1}], s_{t-1}),  c_t = attend(s_t, h)  (e_j = s_t^T W h_j)
             s~_t = tanh(W_c [c_t; s_t]),  p(y_t) = softmax(W_o s~_t)

Without attention the whole input must pass through the one vector c, so long inputs
suffer; with attention each output step reads the positions it needs.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from dl_roadmap.text.attention import AdditiveAttention, MultiplicativeAttention
from dl_roadmap.text.vocab import BOS, PAD

Kind = Literal["none", "additive", "luong"]


class GRUSeq2Seq(nn.Module):
    """Bidirectional GRU encoder, GRU decoder with ``attention`` = none | additive | luong."""

    def __init__(self, in_vocab: int, out_vocab: int, attention: Kind = "additive", embed: int = 64,
                 hidden: int = 128, dropout: float = 0.0):
        super().__init__()
        if attention not in ("none", "additive", "luong"):
            raise ValueError(f"attention must be none, additive or luong, got {attention!r}")
        self.kind, self.hidden = attention, hidden
        self.src_embed = nn.Embedding(in_vocab, embed, padding_idx=PAD)
        self.encoder = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hidden, hidden)  # initial decoder state from the encoder's ends
        self.tgt_embed = nn.Embedding(out_vocab, embed, padding_idx=PAD)
        self.drop = nn.Dropout(dropout)
        keys = 2 * hidden
        if attention == "none":
            self.context = nn.Linear(2 * hidden, keys)  # c = tanh(W [h_L^fwd; h_1^bwd])
            self.cell = nn.GRUCell(embed + keys, hidden)
            self.out = nn.Linear(hidden + keys + embed, out_vocab)
        elif attention == "additive":
            self.attend = AdditiveAttention(hidden, keys, hidden)
            self.cell = nn.GRUCell(embed + keys, hidden)
            self.out = nn.Linear(hidden + keys + embed, out_vocab)
        else:
            self.attend = MultiplicativeAttention(hidden, keys)
            self.cell = nn.GRUCell(embed + hidden, hidden)
            self.combine = nn.Linear(keys + hidden, hidden)  # W_c
            self.out = nn.Linear(hidden, out_vocab)

    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """src (N, L) -> encoder states (N, L, 2H), padding (N, L), summary [h_L^fwd; h_1^bwd] (N, 2H)."""
        padding = src == PAD
        lengths = (~padding).sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(self.drop(self.src_embed(src)), lengths, batch_first=True,
                                      enforce_sorted=False)
        states, last = self.encoder(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=src.size(1))
        return states, padding, torch.cat([last[0], last[1]], dim=-1)

    def decode(self, src: torch.Tensor, steps: int, target_in: torch.Tensor | None = None,
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (N, steps, V) and attention weights (N, steps, L) (zeros without attention).
        With ``target_in`` (N, steps) the decoder reads it (teacher forcing); without, it
        reads its own previous argmax (greedy decoding), starting from BOS."""
        keys, padding, summary = self.encode(src)
        s = torch.tanh(self.bridge(summary))
        fixed = torch.tanh(self.context(summary)) if self.kind == "none" else None
        projected = self.attend.precompute(keys) if self.kind != "none" else None
        feed = torch.zeros_like(s)  # Luong's s~_{t-1}
        y = torch.full((src.size(0),), BOS, dtype=torch.long, device=src.device)
        logits, weights = [], []
        for t in range(steps):
            if target_in is not None:
                y = target_in[:, t]
            e = self.drop(self.tgt_embed(y))
            if self.kind == "luong":
                s = self.cell(torch.cat([e, feed], -1), s)
                c, a = self.attend(s, keys, projected, padding)
                feed = torch.tanh(self.combine(torch.cat([c, s], -1)))
                logit = self.out(self.drop(feed))
            else:
                if self.kind == "none":
                    c, a = fixed, torch.zeros_like(padding, dtype=keys.dtype)
                else:
                    c, a = self.attend(s, keys, projected, padding)
                s = self.cell(torch.cat([e, c], -1), s)
                logit = self.out(self.drop(torch.cat([s, c, e], -1)))
            logits.append(logit)
            weights.append(a)
            y = logit.argmax(-1)
        return torch.stack(logits, 1), torch.stack(weights, 1)

    def forward(self, src: torch.Tensor, target_in: torch.Tensor) -> torch.Tensor:
        return self.decode(src, target_in.size(1), target_in)[0]

    @torch.no_grad()
    def greedy(self, src: torch.Tensor, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        logits, weights = self.decode(src, steps)
        return logits.argmax(-1), weights
