"""Annealed importance sampling of an RBM's partition function (Salakhutdinov & Murray 2008).

log Z of a 784 x 500 RBM is a sum over 2^500 hidden states: no enumeration. AIS walks from
a base model A whose Z is known to the RBM B through distributions that morph one into the
other, with inverse temperatures 0 = beta_0 < beta_1 < ... < beta_K = 1::

    p*_k(v) = exp((1 - beta_k) b_A'v + beta_k b_B'v) prod_j (1 + exp(beta_k (c_j + v'W_:j)))

At beta = 0 this is the base model (independent pixels with biases b_A, the hidden units
uniform): Z_0 = 2^H prod_i (1 + exp(b_A,i)). At beta = 1 it is exp(-F_B(v)), the RBM.
Each run draws v_1 from the base model, then for k = 1..K-1 moves v_k -> v_{k+1} by one
Gibbs step that leaves p_k invariant, accumulating the importance weight::

    log w = sum_{k=1}^{K} log p*_k(v_k) - log p*_{k-1}(v_k)
    Z_B / Z_0 ~= mean over runs of w          (unbiased in Z, so log Z is a stochastic lower bound)

b_A is the data's pixel means in logit form, the paper's base-rate model: the walk then
starts near the data and needs fewer temperatures.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from dl_roadmap.pipelines.energy_based.rbm import RBM, log_mean_exp


def base_rate_biases(data: torch.Tensor, smoothing: float = 0.05) -> torch.Tensor:
    """b_A = logit of each pixel's mean on the data (smoothed away from 0 and 1)."""
    p = (data.mean(0) + smoothing) / (1 + 2 * smoothing)
    return torch.log(p) - torch.log1p(-p)


def beta_schedule(counts: tuple[int, int, int] | list[int]) -> torch.Tensor:
    """The paper's schedule, fine where the distributions change fastest: ``counts[0]``
    temperatures spaced in [0, 0.5), ``counts[1]`` in [0.5, 0.9), ``counts[2]`` in [0.9, 1]."""
    a, b, c = (int(n) for n in counts)
    return torch.cat([torch.linspace(0, 0.5, a + 1)[:-1], torch.linspace(0.5, 0.9, b + 1)[:-1],
                      torch.linspace(0.9, 1.0, c)]).double()


@torch.no_grad()
def ais_log_partition(rbm: RBM, b_a: torch.Tensor, betas: torch.Tensor, runs: int = 100,
                      seed: int = 0) -> dict[str, float]:
    """Estimate log Z of ``rbm`` with ``runs`` independent AIS runs along ``betas``.

    Returns:
        ``log_z`` (log of the mean weight), ``log_z_low`` / ``log_z_high`` (log of mean -+ 3
        standard errors of the weights, the paper's band; the low end is -inf when the band
        reaches zero), ``log_z_base``, and the effective sample size of the weights.
    """
    g = torch.Generator().manual_seed(seed)
    W, b, c, b_a = rbm.W.float(), rbm.b.float(), rbm.c.float(), b_a.float()
    log_z_base = float(rbm.hidden * math.log(2) + F.softplus(b_a.double()).sum())
    v = torch.bernoulli(torch.sigmoid(b_a).expand(runs, -1), generator=g)
    log_w = torch.zeros(runs, dtype=torch.float64)
    betas = [float(beta) for beta in betas]
    for previous, beta in zip(betas[:-1], betas[1:]):
        # log p*_beta(v) - log p*_previous(v), differences taken term by term (float32 matmuls,
        # float64 sums: thousands of small increments).
        act = v @ W + c
        step = (beta - previous) * (v @ (b - b_a)) + (F.softplus(beta * act) - F.softplus(previous * act)).sum(1)
        log_w += step.double()
        if beta < 1.0:  # one Gibbs step that leaves p_beta invariant: h | v, then v | h
            h = torch.bernoulli(torch.sigmoid(beta * act), generator=g)
            v = torch.bernoulli(torch.sigmoid((1 - beta) * b_a + beta * (h @ W.T + b)), generator=g)
    log_ratio = float(log_mean_exp(log_w))
    # The band: mean(w) +- 3 standard errors, in log space relative to the largest weight.
    shift = float(log_w.max())
    w = torch.exp(log_w - shift).numpy()
    mean, err = w.mean(), 3 * w.std(ddof=1) / math.sqrt(runs)
    ess = float(w.sum() ** 2 / (w ** 2).sum())
    return {
        "log_z": log_z_base + log_ratio,
        "log_z_low": log_z_base + shift + (math.log(mean - err) if mean > err else -np.inf),
        "log_z_high": log_z_base + shift + math.log(mean + err),
        "log_z_base": log_z_base,
        "effective_runs": ess,
    }


@torch.no_grad()
def mean_log_likelihood(rbm: RBM, data: torch.Tensor, log_z: float) -> float:
    """Average log p(v) = -F(v) - log Z over ``data`` (nats per image)."""
    return float((-rbm.free_energy(data.to(rbm.W.dtype))).double().mean() - log_z)
