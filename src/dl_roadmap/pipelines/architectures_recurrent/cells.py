"""RNN, LSTM and GRU cells written from their gate equations, and a layer that runs a cell
over a sequence.

The parameters are laid out as ``torch.nn.RNN/LSTM/GRU`` lay them out (``weight_ih``
stacks the gates' input weights, ``weight_hh`` their recurrent weights, one bias each), so
weights copy across in both directions (``copy_from_torch``) and the tests compare outputs
and gradients with torch's fused kernels. Notation: x_t the input at step t, h_{t-1} the
previous hidden state, sigma the logistic sigmoid, * the element-wise product.

Elman RNN (tanh)::

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000)::

    i_t = sigma(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)     input gate
    f_t = sigma(W_if x_t + b_if + W_hf h_{t-1} + b_hf)     forget gate
    g_t = tanh (W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     candidate cell
    o_t = sigma(W_io x_t + b_io + W_ho h_{t-1} + b_ho)     output gate
    c_t = f_t * c_{t-1} + i_t * g_t                        the cell: an additive path
    h_t = o_t * tanh(c_t)

GRU (Cho et al. 2014, in torch's variant: the reset gate scales W_hn h + b_hn)::

    r_t = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)     reset gate
    z_t = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)     update gate
    n_t = tanh (W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                  interpolation: z = 1 copies h

Why gates help with long memory: in the RNN, dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh, a product
of T such Jacobians shrinks (or blows up) geometrically; the LSTM's dc_t/dc_{t-1} = diag(f_t)
and the GRU's dh_t/dh_{t-1} contains diag(z_t): with the gate near 1 the gradient passes
unchanged over many steps.
"""

from __future__ import annotations

import math

import torch
from torch import nn

GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # blocks stacked in weight_ih / weight_hh


class Cell(nn.Module):
    """Parameters of one cell: W_ih (gates*H, D), W_hh (gates*H, H), b_ih, b_hh (gates*H),
    initialised as torch does: U(-1/sqrt(H), 1/sqrt(H))."""

    kind = "rnn"

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        gates = GATES[self.kind]
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(gates * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(gates * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(gates * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(gates * hidden_size))
        bound = 1.0 / math.sqrt(hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def input_part(self, x: torch.Tensor) -> torch.Tensor:
        """W_ih x_t + b_ih for every step at once: (N, T, D) -> (N, T, gates*H); it does not
        depend on the state, so one matrix product serves the whole sequence."""
        return x @ self.weight_ih.T + self.bias_ih

    def recurrent_part(self, h: torch.Tensor) -> torch.Tensor:
        """W_hh h_{t-1} + b_hh: (N, H) -> (N, gates*H)."""
        return h @ self.weight_hh.T + self.bias_hh


class RNNCell(Cell):
    kind = "rnn"

    def step(self, gx: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        (h,) = state
        return (torch.tanh(gx + self.recurrent_part(h)),)  # h_t = tanh(W_ih x + b_ih + W_hh h + b_hh)


class LSTMCell(Cell):
    kind = "lstm"

    def step(self, gx: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        h, c = state
        i, f, g, o = (gx + self.recurrent_part(h)).chunk(4, dim=1)  # torch's gate order: i, f, g, o
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g  # keep a share f of the old cell, write a share i of the candidate
        return o * torch.tanh(c), c


class GRUCell(Cell):
    kind = "gru"

    def step(self, gx: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        (h,) = state
        x_r, x_z, x_n = gx.chunk(3, dim=1)  # torch's gate order: r, z, n
        h_r, h_z, h_n = self.recurrent_part(h).chunk(3, dim=1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)  # the reset gate scales the recurrent term, bias included
        return ((1 - z) * n + z * h,)


CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


class Recurrent(nn.Module):
    """One recurrent layer over a batch-first sequence, like ``torch.nn.<RNN|LSTM|GRU>(...,
    batch_first=True)`` with one layer: (N, T, D) -> outputs (N, T, H) and the final state
    (h_T for RNN and GRU, (h_T, c_T) for LSTM, each (1, N, H) as torch returns them)."""

    def __init__(self, kind: str, input_size: int, hidden_size: int):
        super().__init__()
        if kind not in CELLS:
            raise ValueError(f"cell: unknown kind {kind!r}; choose from {sorted(CELLS)}")
        self.kind = kind
        self.cell = CELLS[kind](input_size, hidden_size)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None):
        n, steps = x.shape[0], x.shape[1]
        if state is None:
            zeros = x.new_zeros(n, self.cell.hidden_size)
            state = (zeros, zeros) if self.kind == "lstm" else (zeros,)
        else:
            state = tuple(s.squeeze(0) for s in (state if isinstance(state, tuple) else (state,)))
        gx = self.cell.input_part(x)
        outputs = []
        for t in range(steps):  # the recurrence itself is sequential: one step at a time
            state = self.cell.step(gx[:, t], state)
            outputs.append(state[0])
        final = tuple(s.unsqueeze(0) for s in state)
        return torch.stack(outputs, 1), (final if self.kind == "lstm" else final[0])


def torch_layer(kind: str, input_size: int, hidden_size: int) -> nn.Module:
    """The library's fused layer of the same kind (one layer, batch first)."""
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    return layer(input_size, hidden_size, batch_first=True)


@torch.no_grad()
def copy_from_torch(ours: Recurrent, reference: nn.Module) -> Recurrent:
    """Copy a one-layer torch RNN/LSTM/GRU's weights into ``ours`` (same kind and sizes)."""
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        source = getattr(reference, f"{name}_l0")
        target = getattr(ours.cell, name)
        if source.shape != target.shape:
            raise ValueError(f"{name}: shapes differ, torch {tuple(source.shape)} against ours {tuple(target.shape)}")
        target.copy_(source)
    return ours
