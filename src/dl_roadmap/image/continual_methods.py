"""Continual-learning methods from their equations: EWC, SI, LwF, reservoir replay, A-GEM.

Every method adds to (or changes) the gradient step of the current task ``t``. With
``θ`` the parameters, ``L_t`` the cross-entropy of the current batch:

* **EWC** (Kirkpatrick et al. 2017, eq. 3): after task ``k`` keep ``θ*_k`` and the
  diagonal of the Fisher information

      F_k,i = E_{x ~ D_k} E_{y ~ p_θ(y|x)} [ (∂ log p_θ(y|x) / ∂θ_i)^2 ]      at θ = θ*_k

  and train on ``L_t + λ/2 · Σ_{k<t} Σ_i F_k,i (θ_i − θ*_k,i)^2`` (one quadratic per
  old task, as in the paper).
* **SI** (Zenke et al. 2017, eqs. 3-5): while training task ``k`` accumulate each
  parameter's share of the loss decrease along the path, ``w_i = −Σ_steps g_i · Δθ_i``
  (``g`` the gradient of the step's loss, ``Δθ`` the update the optimizer made), then set
  ``Ω_i += w_i / ((θ_i(end) − θ_i(start))^2 + ξ)`` and penalise
  ``c · Σ_i Ω_i (θ_i − θ̃_i)^2`` with ``θ̃`` the parameters at the end of the last task.
* **LwF** (Li & Hoiem 2017, eq. 2): before task ``t`` freeze a copy of the network; on
  the current inputs its softened outputs on the old units ``y' = softmax(z_old / T)``
  are targets for ``ŷ' = softmax(z / T)``: ``L_old = −T^2 · Σ y' log ŷ'`` (T = 2; the
  ``T^2`` keeps gradients comparable across temperatures, Hinton et al. 2015).
* **Replay** (Chaudhry et al. 2019, "tiny episodic memories"): a buffer filled by
  reservoir sampling (Vitter 1985, algorithm R) gives a second batch; on task ``t`` (1-based)
  the step minimises ``1/t · L_t + (1 − 1/t) · L_replay`` (the weighting of van de Ven &
  Tolias 2018, sec. 4.2, which LwF's distillation term gets too).
* **A-GEM** (Chaudhry et al. 2019, eq. 11): ``g`` the current gradient, ``g_ref`` the
  gradient on a memory batch of earlier tasks; when ``g · g_ref < 0`` step along

      g̃ = g − (g · g_ref / g_ref · g_ref) g_ref

  (the projection of ``g`` onto the half-space where the memory loss does not increase to
  first order; otherwise ``g̃ = g``).
"""

from __future__ import annotations

import random
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


# ----------------------------------------------------------------------------- EWC
def fisher_diagonal(model: nn.Module, x: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor | None = None,
                    sampled: bool = True, generator: torch.Generator | None = None,
                    batch_size: int = 256) -> dict[str, torch.Tensor]:
    """Diagonal Fisher ``F_i = mean_n (∂ log p(y_n | x_n) / ∂θ_i)^2`` over the items ``x``.

    ``y_n`` is drawn from the model's own distribution (``sampled``, Kirkpatrick's Fisher) or
    taken from ``labels`` (the "empirical" Fisher). ``mask`` (N, outputs) marks the units the
    task's softmax runs over. Per-item gradients come from ``torch.func`` (vmap of grad).
    """
    from torch.func import functional_call, grad, vmap

    params = {name: p.detach() for name, p in model.named_parameters()}

    def log_likelihood(p: dict[str, torch.Tensor], xi: torch.Tensor, mi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        logits = functional_call(model, p, (xi.unsqueeze(0),))[0]
        log_p = F.log_softmax(logits.masked_fill(~mi, float("-inf")), dim=0)
        return log_p.gather(0, yi.unsqueeze(0)).squeeze(0)

    per_item = vmap(grad(log_likelihood), in_dims=(None, 0, 0, 0))
    totals = {name: torch.zeros_like(p) for name, p in params.items()}
    for start in range(0, len(x), batch_size):
        xb, mb = x[start:start + batch_size], mask[start:start + batch_size]
        if sampled:
            with torch.no_grad():
                probs = F.softmax(model(xb).masked_fill(~mb, float("-inf")), dim=1)
            yb = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        else:
            assert labels is not None, "fisher_diagonal: the empirical Fisher needs labels"
            yb = labels[start:start + batch_size]
        grads = per_item(params, xb, mb, yb)
        for name, g in grads.items():
            totals[name] += g.pow(2).sum(0)
    return {name: total / len(x) for name, total in totals.items()}


def quadratic_penalty(model: nn.Module, anchors: list[dict[str, torch.Tensor]],
                      weights: list[dict[str, torch.Tensor]]) -> torch.Tensor:
    """``Σ_k Σ_i w_k,i (θ_i − θ*_k,i)^2``: EWC's sum over old tasks (w = F) and SI's single
    term (w = Ω). The caller multiplies by λ/2 (EWC) or c (SI)."""
    total = torch.zeros((), device=next(model.parameters()).device)
    for anchor, weight in zip(anchors, weights):
        for name, p in model.named_parameters():
            total = total + (weight[name] * (p - anchor[name]).pow(2)).sum()
    return total


# ----------------------------------------------------------------------------- SI
class PathIntegral:
    """Synaptic Intelligence's bookkeeping: ``w`` (running path integral of the current
    task), ``start`` (θ when the task began) and ``omega`` (Ω, summed over finished tasks)."""

    def __init__(self, model: nn.Module, xi: float = 0.1):
        self.xi = float(xi)
        self.omega = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
        self.start = {n: p.detach().clone() for n, p in model.named_parameters()}
        self.w = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
        self._before: dict[str, torch.Tensor] = {}

    def before_step(self, model: nn.Module) -> None:
        """Remember θ and the gradient ``g`` of this step (call after backward, before the update)."""
        self._before = {n: (p.detach().clone(), p.grad.detach().clone() if p.grad is not None else None)
                        for n, p in model.named_parameters()}

    def after_step(self, model: nn.Module) -> None:
        """``w_i += −g_i · Δθ_i`` for the update just made."""
        for n, p in model.named_parameters():
            old, g = self._before[n]
            if g is not None:
                self.w[n] -= g * (p.detach() - old)

    def consolidate(self, model: nn.Module) -> None:
        """End of a task: ``Ω += w / (Δ^2 + ξ)``, then a new path starts here."""
        for n, p in model.named_parameters():
            delta = p.detach() - self.start[n]
            self.omega[n] += self.w[n] / (delta.pow(2) + self.xi)
            self.start[n] = p.detach().clone()
            self.w[n].zero_()

    def state_dict(self) -> dict[str, Any]:
        return {"omega": self.omega, "start": self.start, "w": self.w}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.omega, self.start, self.w = state["omega"], state["start"], state["w"]


# ----------------------------------------------------------------------------- LwF
def distillation_loss(logits: torch.Tensor, old_logits: torch.Tensor, mask: torch.Tensor,
                      temperature: float = 2.0) -> torch.Tensor:
    """``−T^2 · mean_n Σ_c y'_nc log ŷ'_nc`` over the units in ``mask`` (the old task's units):
    soft targets of the frozen network against the current one, both at temperature T."""
    neg = float("-inf")
    targets = F.softmax(old_logits.masked_fill(~mask, neg) / temperature, dim=1)
    log_probs = F.log_softmax(logits.masked_fill(~mask, neg) / temperature, dim=1)
    return -(temperature ** 2) * (targets * log_probs.masked_fill(~mask, 0.0)).sum(1).mean()


# ----------------------------------------------------------------------------- reservoir
class Reservoir:
    """Reservoir sampling (Vitter's algorithm R): after ``n`` items have streamed past, each
    of them is in the buffer with probability ``capacity / n``.

    Item ``n`` (1-based) is stored outright while the buffer has room; after that it
    replaces slot ``j`` when a uniform draw ``j ∈ {0, ..., n − 1}`` falls below ``capacity``.
    (Induction: an item already kept survives step ``n`` with probability
    ``1 − (c/n)(1/c) = (n − 1)/n``, so ``c/(n − 1) · (n − 1)/n = c/n``.)
    Items are stored as integers (the caller's references to its data), so the buffer is small.
    """

    def __init__(self, capacity: int, seed: int = 0):
        if int(capacity) < 1:
            raise ValueError(f"reservoir capacity must be >= 1, got {capacity!r}")
        self.capacity = int(capacity)
        self.items: list[int] = []
        self.seen = 0
        self.rng = random.Random(seed)

    def add(self, item: int) -> None:
        self.seen += 1
        if len(self.items) < self.capacity:
            self.items.append(int(item))
            return
        j = self.rng.randrange(self.seen)
        if j < self.capacity:
            self.items[j] = int(item)

    def extend(self, items: Any) -> None:
        for item in items:
            self.add(int(item))

    def sample(self, k: int, keep: Any = None) -> list[int]:
        """Up to ``k`` stored items drawn without replacement (only those ``keep(item)`` accepts)."""
        pool = self.items if keep is None else [i for i in self.items if keep(i)]
        return self.rng.sample(pool, min(int(k), len(pool)))

    def state_dict(self) -> dict[str, Any]:
        return {"items": list(self.items), "seen": self.seen, "rng": self.rng.getstate()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.items, self.seen = list(state["items"]), int(state["seen"])
        self.rng.setstate(state["rng"])


# ----------------------------------------------------------------------------- A-GEM
def agem_project(g: torch.Tensor, g_ref: torch.Tensor) -> torch.Tensor:
    """A-GEM's update direction: ``g`` if ``g · g_ref >= 0``, else
    ``g − (g · g_ref / g_ref · g_ref) g_ref`` (then ``g̃ · g_ref = 0``)."""
    dot = torch.dot(g, g_ref)
    if dot >= 0:
        return g
    return g - (dot / torch.dot(g_ref, g_ref).clamp_min(1e-12)) * g_ref


def flat_grad(model: nn.Module) -> torch.Tensor:
    """All parameter gradients as one vector (zeros where a parameter has none)."""
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                      for p in model.parameters()])


def set_flat_grad(model: nn.Module, vector: torch.Tensor) -> None:
    """Write a vector made by ``flat_grad`` back into the parameters' ``.grad``."""
    offset = 0
    for p in model.parameters():
        n = p.numel()
        p.grad = vector[offset:offset + n].view_as(p).clone()
        offset += n
