"""Three ways to classify a query from a handful of labelled support images, each written
from its paper's equations. All work on embeddings f(x) of the Conv-4 network
(image/fewshot_episodes.py) and accept a leading batch of episodes: support (E, S, F) with
labels (E, S) in 0..N-1, queries (E, Q, F).

Prototypical Networks (Snell, Swersky and Zemel 2017, eqs. 1-2)::

    c_k = 1/|S_k| sum_{(x_i, y_i) in S_k} f(x_i)                   (the class prototype)
    p(y = k | x) = exp(-d(f(x), c_k)) / sum_k' exp(-d(f(x), c_k'))
    d(z, z') = ||z - z'||^2                                         (squared Euclidean)

Matching Networks (Vinyals et al. 2016, eqs. 1-2; no full-context embeddings)::

    p(y = k | x) = sum_i a(x, x_i) 1[y_i = k]
    a(x, x_i) = exp(s cos(f(x), f(x_i))) / sum_j exp(s cos(f(x), f(x_j)))

The paper's attention is the plain softmax of cosines (s = 1); ``scale`` s > 1 sharpens it
(the same temperature later work uses), a parameter here.

Fine-tuning baseline (Chen et al. 2019, "A Closer Look at Few-shot Classification",
"Baseline"): the embedding trained as an ordinary classifier of the background classes is
frozen, and a new linear head W (N, F), b (N,) is fitted on the support set alone::

    min_{W, b}  1/|S| sum_i CE(W f(x_i) + b, y_i) + lambda/2 ||W||^2
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def one_hot(labels: torch.Tensor, way: int) -> torch.Tensor:
    return F.one_hot(labels, way).to(torch.float32)


def prototypes(support: torch.Tensor, labels: torch.Tensor, way: int) -> torch.Tensor:
    """c_k: the mean embedding of each class's support items, (E, S, F) -> (E, N, F)."""
    y = one_hot(labels, way)                                      # (E, S, N)
    return y.transpose(-1, -2) @ support / y.sum(-2).unsqueeze(-1)


def squared_euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """||a_q - b_k||^2 for every pair, (E, Q, F) x (E, N, F) -> (E, Q, N)."""
    return (a.unsqueeze(-2) - b.unsqueeze(-3)).pow(2).sum(-1)


def protonet_logits(query: torch.Tensor, support: torch.Tensor, labels: torch.Tensor, way: int) -> torch.Tensor:
    """-d(f(x), c_k): softmax over k gives p(y = k | x)."""
    return -squared_euclidean(query, prototypes(support, labels, way))


def matching_log_probs(query: torch.Tensor, support: torch.Tensor, labels: torch.Tensor, way: int,
                       scale: float = 1.0) -> torch.Tensor:
    """log p(y = k | x) = log sum_i a(x, x_i) 1[y_i = k], the attention a a softmax of scaled cosines."""
    cosine = F.normalize(query, dim=-1) @ F.normalize(support, dim=-1).transpose(-1, -2)   # (E, Q, S)
    attention = torch.softmax(scale * cosine, dim=-1)
    return torch.log(attention @ one_hot(labels, way) + 1e-12)                          # (E, Q, N)


def fit_linear_head(support: torch.Tensor, labels: torch.Tensor, way: int, steps: int = 100, lr: float = 0.1,
                    weight_decay: float = 1e-3, momentum: float = 0.9) -> tuple[torch.Tensor, torch.Tensor]:
    """The baseline's new head: W (E, N, F), b (E, N) from zero, full-batch SGD with momentum on
    the support cross-entropy plus weight decay, every episode of the batch at once."""
    episodes, _, features = support.shape
    weight = torch.zeros(episodes, way, features, requires_grad=True)
    bias = torch.zeros(episodes, way, requires_grad=True)
    optimizer = torch.optim.SGD([weight, bias], lr=lr, momentum=momentum)
    support = support.detach()
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        logits = support @ weight.transpose(-1, -2) + bias.unsqueeze(-2)
        # the mean over each episode's support, summed over episodes: episodes stay independent
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="sum") / labels.shape[-1]
        loss = loss + weight_decay / 2 * weight.pow(2).sum()
        loss.backward()
        optimizer.step()
    return weight.detach(), bias.detach()


def linear_head_logits(query: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return query @ weight.transpose(-1, -2) + bias.unsqueeze(-2)
