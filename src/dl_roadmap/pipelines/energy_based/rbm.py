"""A Bernoulli restricted Boltzmann machine, written from its energy function.

Visible units v in {0,1}^D (the pixels), hidden units h in {0,1}^H, parameters W (D, H),
visible biases b (D), hidden biases c (H)::

    E(v, h) = -b'v - c'h - v'W h                       the energy
    p(v, h) = exp(-E(v, h)) / Z,   Z = sum_{v,h} exp(-E(v, h))

No unit is connected to another of its own layer, so each layer is independent given the
other one, and the sum over h (or over v) factorises::

    p(h_j = 1 | v) = sigmoid(c_j + v'W_:j)             "up"
    p(v_i = 1 | h) = sigmoid(b_i + W_i: h)             "down"
    F(v) = -log sum_h exp(-E(v, h)) = -b'v - sum_j softplus(c_j + v'W_:j)   free energy of v
    G(h) = -log sum_v exp(-E(v, h)) = -c'h - sum_i softplus(b_i + W_i: h)   free energy of h
    log p(v) = -F(v) - log Z

The log-likelihood gradient is a difference of two expectations (data minus model)::

    d log p(v) / dW = v E[h | v]' - E_model[v h']

Contrastive divergence replaces the model expectation by a short Gibbs chain
(v -> h -> v' -> h' ...): CD-k starts k steps from the data (Hinton 2002); persistent CD
keeps the chains alive from one update to the next (Tieleman 2008), as scikit-learn's
``BernoulliRBM`` does. The parameters are plain tensors updated by hand: the gradient is
the formula above, there is nothing for autograd to do.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class RBM(nn.Module):
    """A Bernoulli-Bernoulli RBM with ``visible`` x ``hidden`` weights."""

    def __init__(self, visible: int = 784, hidden: int = 500, seed: int = 0, init_std: float = 0.01):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.W = nn.Parameter(torch.randn(visible, hidden, generator=g) * init_std, requires_grad=False)
        self.b = nn.Parameter(torch.zeros(visible), requires_grad=False)
        self.c = nn.Parameter(torch.zeros(hidden), requires_grad=False)

    @property
    def visible(self) -> int:
        return self.W.shape[0]

    @property
    def hidden(self) -> int:
        return self.W.shape[1]

    # --- the energy and the two free energies ------------------------------------------

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """E(v, h) = -b'v - c'h - v'Wh, one value per row."""
        return -v @ self.b - h @ self.c - ((v @ self.W) * h).sum(1)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """F(v) = -b'v - sum_j softplus(c_j + v'W_:j): h summed out."""
        return -v @ self.b - F.softplus(v @ self.W + self.c).sum(1)

    def hidden_free_energy(self, h: torch.Tensor) -> torch.Tensor:
        """G(h) = -c'h - sum_i softplus(b_i + W_i: h): v summed out."""
        return -h @ self.c - F.softplus(h @ self.W.T + self.b).sum(1)

    # --- conditionals and Gibbs sampling -----------------------------------------------

    def p_h(self, v: torch.Tensor) -> torch.Tensor:
        """p(h = 1 | v) = sigmoid(c + v'W)."""
        return torch.sigmoid(v @ self.W + self.c)

    def p_v(self, h: torch.Tensor) -> torch.Tensor:
        """p(v = 1 | h) = sigmoid(b + W h)."""
        return torch.sigmoid(h @ self.W.T + self.b)

    def gibbs(self, v: torch.Tensor, steps: int = 1, generator: torch.Generator | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """``steps`` rounds of v -> h -> v; the last sample v and its p(v = 1 | h)."""
        p = v
        for _ in range(steps):
            h = torch.bernoulli(self.p_h(v), generator=generator)
            p = self.p_v(h)
            v = torch.bernoulli(p, generator=generator)
        return v, p

    # --- learning ----------------------------------------------------------------------

    def contrastive_update(self, v_data: torch.Tensor, v_model: torch.Tensor, lr: float,
                           weight_decay: float = 0.0) -> None:
        """One step up the likelihood gradient, the model expectation taken at ``v_model``
        (the end of the negative chains): <v h'>_data - <v h'>_model, with E[h | v] in place
        of sampled h on both sides (less noise, same expectation)."""
        n = v_data.shape[0]
        ph_data, ph_model = self.p_h(v_data), self.p_h(v_model)
        self.W += lr * ((v_data.T @ ph_data - v_model.T @ ph_model) / n - weight_decay * self.W)
        self.b += lr * (v_data - v_model).mean(0)
        self.c += lr * (ph_data - ph_model).mean(0)

    # --- likelihood helpers ------------------------------------------------------------

    def pseudo_log_likelihood(self, v: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
        """D * log p(v_i | v_-i) for one pixel i per row (``flip``, indices in [0, D)):
        log p(v_i | v_-i) = log sigmoid(F(v with i flipped) - F(v)); scikit-learn's
        ``score_samples`` is this estimate with a random i per row."""
        flipped = v.clone()
        rows = torch.arange(v.shape[0])
        flipped[rows, flip] = 1 - flipped[rows, flip]
        return self.visible * F.logsigmoid(self.free_energy(flipped) - self.free_energy(v))

    def exact_log_partition(self, chunk: int = 1 << 14) -> float:
        """log Z by enumerating the smaller layer (2^min(D, H) states; only for small RBMs):
        log Z = logsumexp_h -G(h) (or logsumexp_v -F(v))."""
        small = min(self.visible, self.hidden)
        if small > 24:
            raise ValueError(f"exact log Z enumerates 2^{small} states: too many (at most 2^24)")
        energy_of = self.hidden_free_energy if self.hidden <= self.visible else self.free_energy
        bits = 2 ** torch.arange(small, dtype=torch.int64)
        parts = []
        for start in range(0, 2 ** small, chunk):
            index = torch.arange(start, min(start + chunk, 2 ** small), dtype=torch.int64)
            states = ((index[:, None] & bits) > 0).to(self.W.dtype)
            parts.append(torch.logsumexp(-energy_of(states), 0))
        return float(torch.logsumexp(torch.stack(parts), 0))


def log_mean_exp(x: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(x, 0) - math.log(x.shape[0])


class GibbsSampler(nn.Module):
    """The RBM as a generator: ``steps`` Gibbs steps from uniformly random pixels; the
    images are p(v = 1 | h) of the last step (grey levels: the usual way to show an RBM's
    samples, and what a yardstick of grey images compares best)."""

    def __init__(self, rbm: RBM, steps: int = 200, side: int = 28):
        super().__init__()
        self.rbm, self.steps, self.side = rbm, int(steps), int(side)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
               ) -> torch.Tensor:
        """n images (n, 1, side, side) in [0, 1]; ``labels`` is refused (not conditional)."""
        if labels is not None:
            raise ValueError("the RBM sampler is unconditional: no labels")
        v = torch.bernoulli(torch.full((int(n), self.rbm.visible), 0.5), generator=generator)
        _, p = self.rbm.gibbs(v, self.steps, generator=generator)
        return p.view(int(n), 1, self.side, self.side)

    def forward(self, n: int) -> torch.Tensor:
        return self.sample(n)
