"""The objectives of self-supervised learning, from their equations, and the two measures of
a representation by Wang & Isola (2020).

Notation: z are projections of a batch of N images, two views each; u = z / ||z|| (unit
vectors), sim(a, b) = u_a . u_b (cosine similarity), tau a temperature.

NT-Xent (SimCLR; Chen et al. 2020, Eq. 1 and Algorithm 1). The 2N views are stacked as
[z_1 ... z_N, z'_1 ... z'_N]; the positive of view i is the other view of its image, j(i),
and the 2N - 2 other views of the batch are its negatives:

    l(i) = -log  exp(sim(i, j(i)) / tau) / sum_{k != i} exp(sim(i, k) / tau)
    L    = 1/(2N) sum_i l(i)

i.e. a (2N)-way cross-entropy over the rows of the similarity matrix with the diagonal
removed and the target j(i).

InfoNCE with a queue (MoCo; He et al. 2020, Eq. 1; MoCo v2 keeps it with an MLP head): a
query q, its key k+ (the other view, from the momentum encoder) and K negatives from the
queue of earlier keys:

    L = -log exp(q . k+ / tau) / (exp(q . k+ / tau) + sum_{n=1}^K exp(q . k_n / tau))

BYOL (Grill et al. 2020, Eq. 2): the online network's prediction p of one view regresses
the target network's projection z' of the other, both normalised, with the stop-gradient
sg on the target:

    L = || p/||p|| - sg(z')/||z'|| ||^2 = 2 - 2 cos(p, sg(z'))      (symmetrised over views)

Alignment and uniformity (Wang & Isola 2020, Eqs. 4 and 5; their code uses alpha = 2, t = 2),
for unit features f:

    align(alpha) = E_{(x, y) positive pairs} ||f(x) - f(y)||^alpha          (lower: views agree)
    unif(t)      = log E_{x, y i.i.d.} exp(-t ||f(x) - f(y)||^2)            (lower: spread out)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """NT-Xent of two views (N, D) each; returns the loss and the share of views whose
    positive has the highest similarity among the 2N - 1 candidates (contrastive accuracy)."""
    n = z1.shape[0]
    u = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = u @ u.T / temperature                             # sim(i, k) / tau, (2N, 2N)
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=u.device)
    logits = logits.masked_fill(self_mask, float("-inf"))      # k != i
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(u.device)   # j(i)
    loss = F.cross_entropy(logits, targets)                    # mean over the 2N views
    accuracy = (logits.argmax(1) == targets).float().mean()
    return loss, accuracy


def info_nce_queue(
    q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """MoCo's InfoNCE: queries (N, D), their keys (N, D) and the queue (K, D), all unit
    vectors; the positive is logit 0 of each row. Returns the loss and the top-1 accuracy."""
    positive = (q * k).sum(1, keepdim=True)                    # q . k+, (N, 1)
    negative = q @ queue.T                                     # q . k_n, (N, K)
    logits = torch.cat([positive, negative], 1) / temperature
    targets = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
    return F.cross_entropy(logits, targets), (logits.argmax(1) == 0).float().mean()


def normalized_regression(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """BYOL's 2 - 2 cos(p, z), mean over the batch; the caller passes z = sg(z')."""
    return (2 - 2 * F.cosine_similarity(p, z, dim=1)).mean()


def alignment(fx: torch.Tensor, fy: torch.Tensor, alpha: float = 2.0) -> float:
    """E ||f(x) - f(y)||^alpha over positive pairs (rows of fx, fy; unit-normalised here)."""
    fx, fy = F.normalize(fx, dim=1), F.normalize(fy, dim=1)
    return float((fx - fy).norm(dim=1).pow(alpha).mean())


def uniformity(f: torch.Tensor, t: float = 2.0) -> float:
    """log E_{i != j} exp(-t ||f_i - f_j||^2) over the distinct pairs of rows (unit-normalised)."""
    u = F.normalize(f, dim=1)
    squared = (2 - 2 * u @ u.T).clamp(min=0)                   # ||u_i - u_j||^2 for unit vectors
    pairs = torch.triu(torch.ones_like(squared, dtype=torch.bool), diagonal=1)
    return float(torch.logsumexp(-t * squared[pairs], 0) - torch.log(torch.tensor(float(pairs.sum()))))
