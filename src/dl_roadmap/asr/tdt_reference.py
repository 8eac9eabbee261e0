"""The TDT loss written as its recursion reads: one utterance, one lattice node at a time.

Slow, and plain on purpose: the vectorised :func:`~dl_roadmap.asr.tdt_loss.tdt_loss` is
checked against it (the maths is in ``tdt_loss``'s docstring)."""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch
from torch import Tensor

from dl_roadmap.asr.tdt_loss import check_inputs, check_options, draw_rnnt, reduce_losses


def tdt_loss_reference(
    joint: Tensor,
    targets: Tensor,
    logit_lengths: Tensor,
    target_lengths: Tensor,
    durations: Sequence[int],
    blank: int,
    sigma: float = 0.0,
    omega: float = 0.0,
    reduction: str | None = "mean_batch",
    rng: random.Random | None = None,
) -> Tensor:
    """The same loss as :func:`tdt_loss`, written as the recursion reads (slow; for checks).

    One utterance at a time, one lattice node at a time, in float64, with autograd. Only
    reachable nodes are stored, so no ``-inf`` ever enters a sum.
    """
    n_tokens = check_inputs(joint, targets, logit_lengths, target_lengths, durations, blank)
    reduction = check_options(sigma, omega, reduction)
    rnnt = draw_rnnt(omega, rng)
    durations = [int(d) for d in durations]
    # (frames moved, duration logit index) of each kind of arc.
    if rnnt:  # RNN-T: a token stays on its frame, a blank moves one frame; no duration logits
        token_moves, blank_moves = [(0, 0)], [(1, 0)]
    else:
        token_moves = [(d, i) for i, d in enumerate(durations)]
        blank_moves = [(d, i) for i, d in enumerate(durations) if d >= 1]
    losses = []
    for b in range(joint.shape[0]):
        frames, length = int(logit_lengths[b]), int(target_lengths[b])
        x = joint[b, :frames, : length + 1].double()
        if rnnt:
            tok = torch.log_softmax(x[..., :n_tokens], dim=-1)
            dur = torch.zeros(frames, length + 1, 1, dtype=torch.float64)
        else:
            tok = torch.log_softmax(x[..., :n_tokens], dim=-1) - sigma
            dur = torch.log_softmax(x[..., n_tokens:], dim=-1)
        y = [int(v) for v in targets[b, :length]]
        alpha = {(0, 0): torch.zeros((), dtype=torch.float64)}
        for t in range(frames):
            for u in range(length + 1):
                if (t, u) == (0, 0):
                    continue
                terms = []
                for d, i in blank_moves:  # blank from (t - d, u)
                    if (t - d, u) in alpha:
                        terms.append(alpha[t - d, u] + tok[t - d, u, blank] + dur[t - d, u, i])
                for d, i in token_moves:  # token y_u from (t - d, u - 1)
                    if u >= 1 and (t - d, u - 1) in alpha:
                        terms.append(alpha[t - d, u - 1] + tok[t - d, u - 1, y[u - 1]] + dur[t - d, u - 1, i])
                if terms:
                    alpha[t, u] = torch.logsumexp(torch.stack(terms), dim=0)
        # The last arc is a blank landing exactly on frame T.
        ends = [
            alpha[frames - d, length] + tok[frames - d, length, blank] + dur[frames - d, length, i]
            for d, i in blank_moves
            if (frames - d, length) in alpha
        ]
        if ends:
            losses.append(-torch.logsumexp(torch.stack(ends), dim=0))
        else:
            losses.append(torch.tensor(float("inf"), dtype=torch.float64))
    stacked = torch.stack(losses) if losses else joint.new_zeros(0, dtype=torch.float64)
    return reduce_losses(stacked, target_lengths, reduction)
