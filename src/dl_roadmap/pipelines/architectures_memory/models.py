"""The adding problem and the recurrent regressor that learns it.

**Adding problem** (Hochreiter & Schmidhuber 1997): a sequence of T pairs (v_t, m_t),
v_t ~ U(0, 1), m_t = 1 at one step a in the first half and one step b in the second, else 0;
the target is y = v_a + v_b. Always answering E[y] = 1 scores MSE Var(v_a + v_b) = 2/12 ~
0.167; a model that solves the task has to carry v_a across up to T steps.

**Regressor**: one recurrent layer (torch's fused nn.RNN / nn.LSTM / nn.GRU) read at its
last step, y_hat = w . h_T + c. Why the cell matters: the gradient that reaches step a is a
product over the steps after it, of dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh for the tanh RNN
(shrinking or exploding geometrically with T), of diag(f_t) along the LSTM's cell
c_t = f_t * c_{t-1} + i_t * g_t, and of a term diag(z_t) for the GRU's
h_t = (1 - z_t) * n_t + z_t * h_{t-1}: gates near 1 carry it unchanged.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import TensorDataset

MEAN_PREDICTOR_MSE = 2.0 / 12.0  # MSE of always answering E[v_a + v_b] = 1
LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def adding_problem(n: int, length: int, seed: int) -> TensorDataset:
    """``n`` sequences of ``length`` steps: inputs (n, length, 2) = (v_t, m_t), targets (n,)."""
    if length < 2:
        raise ValueError(f"lengths: each length must be at least 2 (one mark in each half), got {length}")
    generator = torch.Generator().manual_seed(int(seed))
    values = torch.rand(n, length, generator=generator)
    first = torch.randint(0, length // 2, (n,), generator=generator)
    second = torch.randint(length // 2, length, (n,), generator=generator)
    marks = torch.zeros(n, length)
    marks[torch.arange(n), first] = 1.0
    marks[torch.arange(n), second] = 1.0
    return TensorDataset(torch.stack([values, marks], -1), (values * marks).sum(1))


class LastStepRegressor(nn.Module):
    """(N, T, 2) -> (N,): a one-layer recurrent net read at its last hidden state. An LSTM's
    forget-gate bias starts at ``forget_bias`` (null: torch's default init)."""

    def __init__(self, cell: str, hidden_size: int, input_size: int = 2, seed: int = 0,
                 forget_bias: float | None = 1.0):
        super().__init__()
        if cell not in LAYERS:
            raise ValueError(f"cells: unknown cell {cell!r}; choose from {sorted(LAYERS)}")
        torch.manual_seed(int(seed))
        self.cell = cell
        self.rnn = LAYERS[cell](input_size, int(hidden_size), batch_first=True)
        self.head = nn.Linear(int(hidden_size), 1)
        if cell == "lstm" and forget_bias is not None:
            # b_f = b_if + b_hf: start with the forget gate open, sigma(1) ~ 0.73 instead of
            # sigma(0) = 0.5 (Gers et al. 2000; Jozefowicz et al. 2015), so early gradients reach back further.
            with torch.no_grad():
                h = int(hidden_size)
                self.rnn.bias_ih_l0[h:2 * h].fill_(float(forget_bias))
                self.rnn.bias_hh_l0[h:2 * h].zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][:, -1]).squeeze(1)
