"""Token-and-Duration Transducer (TDT) loss in plain PyTorch, so TDT models train on CPU.

NeMo computes the TDT loss with a CUDA kernel only. This module computes the same loss
(NeMo's lattice, termination rule, ``sigma`` and ``omega``) with ordinary tensor ops, so
autograd gives the gradients. Reference: H. Xu, F. Jia, S. Majumdar, H. Huang,
S. Watanabe, B. Ginsburg, "Efficient Sequence Transduction by Jointly Predicting Tokens
and Durations", ICML 2023 (arXiv:2304.06795).

The maths
---------
One utterance: ``T`` encoder frames, targets ``y_1 .. y_U``, durations ``D`` (e.g.
``[0, 1, 2, 3, 4]``). The joint output at lattice node ``(t, u)`` (``0 <= t < T``,
``0 <= u <= U``) holds ``V + 1`` token logits ``z`` (blank among them, NeMo puts it last)
followed by ``len(D)`` duration logits ``h``::

    log P_tok(k | t, u) = z_k - logsumexp(z) - sigma     # sigma: logit under-normalisation
    log P_dur(i | t, u) = log_softmax(h)_i

Arcs leaving ``(t, u)``: token ``y_{u+1}`` with duration ``d`` in ``D`` goes to
``(t + d, u + 1)``; blank with duration ``d >= 1`` goes to ``(t + d, u)`` (a blank must
move time forward). Each arc weighs ``P_tok * P_dur(d)``. The forward variable::

    alpha(0, 0) = 0
    alpha(t, u) = logsumexp(
        { alpha(t-d, u)   + log P_tok(blank | t-d, u)   + log P_dur(d | t-d, u)   : d in D, d >= 1 }
      U { alpha(t-d, u-1) + log P_tok(y_u   | t-d, u-1) + log P_dur(d | t-d, u-1) : d in D, u >= 1 })

over the terms with ``t - d >= 0``. A path ends with a blank that lands exactly on
frame ``T``::

    log P(y | x) = logsumexp over d in D, 1 <= d <= T of
                   alpha(T-d, U) + log P_tok(blank | T-d, U) + log P_dur(d | T-d, U)

and the loss is ``-log P(y | x)`` (``+inf`` when no path exists, e.g. too few frames
for the targets when 0 is not a duration).

``omega``: with probability ``omega`` (one draw per call, as NeMo does) the call
returns the standard RNN-T loss of the token logits instead (no durations, no sigma):
the same lattice with token arcs of duration 0 and blank arcs of duration 1. In
expectation the objective is ``(1 - omega) * L_TDT + omega * L_RNNT``.

Vectorisation: every arc goes from anti-diagonal ``n = t + u`` to a later one (a token
arc of duration ``d`` adds ``d + 1``, a blank arc adds ``d >= 1``), so the cells of one
anti-diagonal only depend on earlier anti-diagonals. The loop runs over the ``T + U``
anti-diagonals; each step is a handful of tensor ops over the whole batch and all ``u``.

The same loss written as the recursion reads (slow, for checks) is in ``tdt_reference``;
putting this loss into a NeMo TDT model is ``tdt_nemo``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from numbers import Integral

import torch
from torch import Tensor

REDUCTIONS = ("none", "sum", "mean", "mean_batch", "mean_volume")


# ---------------------------------------------------------------------------- checks


def check_inputs(
    joint: Tensor,
    targets: Tensor,
    logit_lengths: Tensor,
    target_lengths: Tensor,
    durations: Sequence[int],
    blank: int,
) -> int:
    """Check shapes, lengths, durations and labels of a TDT loss call.

    Returns:
        The number of token classes (``V + 1``, blank included).

    Raises:
        ValueError: naming the argument that is wrong and why.
    """
    if joint.dim() != 4:
        raise ValueError(f"joint must be 4-D (B, T, U+1, V+1+D), got shape {tuple(joint.shape)}")
    if not joint.is_floating_point():
        raise ValueError(f"joint must be a floating-point tensor, got {joint.dtype}")
    durations = list(durations)
    if not durations or any(not isinstance(d, Integral) or isinstance(d, bool) or d < 0 for d in durations):
        raise ValueError(f"durations must be a non-empty list of ints >= 0, got {durations}")
    if len(set(durations)) != len(durations):
        raise ValueError(f"durations must not repeat a value, got {durations}")
    if max(durations) < 1:
        raise ValueError(f"durations must contain a value >= 1 (a blank must advance time), got {durations}")
    batch, frames, rows, width = joint.shape
    n_tokens = width - len(durations)
    if n_tokens < 2:
        raise ValueError(
            f"joint's last dimension ({width}) must hold at least 2 token logits "
            f"(blank and one token) plus {len(durations)} duration logits"
        )
    if not 0 <= blank < n_tokens:
        raise ValueError(f"blank must be a token index in [0, {n_tokens}), got {blank}")
    for name, lengths in (("logit_lengths", logit_lengths), ("target_lengths", target_lengths)):
        if lengths.dim() != 1 or lengths.shape[0] != batch:
            raise ValueError(f"{name} must have shape ({batch},), got {tuple(lengths.shape)}")
        if lengths.is_floating_point():
            raise ValueError(f"{name} must be an integer tensor, got {lengths.dtype}")
    if targets.dim() != 2 or targets.shape[0] != batch:
        raise ValueError(f"targets must have shape ({batch}, U), got {tuple(targets.shape)}")
    if targets.is_floating_point():
        raise ValueError(f"targets must be an integer tensor, got {targets.dtype}")
    if batch == 0:
        return n_tokens
    if logit_lengths.min() < 1 or logit_lengths.max() > frames:
        raise ValueError(
            f"logit_lengths must lie in [1, {frames}] (joint's T), got "
            f"min {int(logit_lengths.min())}, max {int(logit_lengths.max())}"
        )
    max_targets = min(rows - 1, targets.shape[1])
    if target_lengths.min() < 0 or target_lengths.max() > max_targets:
        raise ValueError(
            f"target_lengths must lie in [0, {max_targets}] (joint's U+1 is {rows}, targets "
            f"has {targets.shape[1]} columns), got min {int(target_lengths.min())}, "
            f"max {int(target_lengths.max())}"
        )
    columns = torch.arange(targets.shape[1], device=targets.device)
    labels = targets[columns[None, :] < target_lengths[:, None].to(targets.device)]
    if labels.numel() and (labels.min() < 0 or labels.max() >= n_tokens or (labels == blank).any()):
        raise ValueError(
            f"targets (within target_lengths) must be token ids in [0, {n_tokens}) other than "
            f"blank={blank}, got min {int(labels.min())}, max {int(labels.max())}"
        )
    return n_tokens


def check_options(sigma: float, omega: float, reduction: str | None) -> str:
    """Check the scalar options; return the reduction with ``None`` spelled ``"none"``."""
    if not 0.0 <= omega <= 1.0:
        raise ValueError(f"omega is a probability and must lie in [0, 1], got {omega}")
    if sigma < 0.0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    reduction = "none" if reduction is None else reduction
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS} or None, got {reduction!r}")
    return reduction


def draw_rnnt(omega: float, rng: random.Random | None) -> bool:
    """Whether this call uses the RNN-T loss (probability ``omega``), drawn like NeMo does."""
    return omega > 0.0 and (rng or random).random() < omega


def reduce_losses(losses: Tensor, target_lengths: Tensor, reduction: str) -> Tensor:
    """Reduce per-utterance losses the way NeMo's ``RNNTLoss`` does.

    ``mean_batch``: mean over the batch; ``mean``: mean of loss / target length;
    ``mean_volume``: sum of losses / sum of target lengths; ``sum``; ``none``: (B,).
    Target lengths are counted as at least 1, so an empty transcript does not divide by 0.
    """
    lengths = target_lengths.to(losses.device, losses.dtype).clamp(min=1)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean_batch":
        return losses.mean()
    if reduction == "mean":
        return (losses / lengths).mean()
    return losses.sum() / lengths.sum()  # mean_volume


# ----------------------------------------------------------------------- vectorised


def _log_zero(dtype: torch.dtype) -> float:
    """A finite stand-in for log(0).

    ``logsumexp`` over all ``-inf`` has a NaN gradient (0 * inf); a huge finite value gives
    exact zeros instead. Divided by 1e6 so that sums of many of them stay finite.
    """
    return torch.finfo(dtype).min / 1e6


def _skew(x: Tensor, fill: float) -> Tensor:
    """Lay (B, T, U1, K) out by anti-diagonal: ``out[:, n, u] = x[:, n - u, u]``.

    Returns (B, T + U1 - 1, U1 + 1, K); column 0 is a ``fill`` pad (so that "row u - 1"
    is a plain slice for u = 0 too) and cells with ``n - u`` outside [0, T) are ``fill``.
    """
    batch, frames, rows, arcs = x.shape
    n = torch.arange(frames + rows - 1, device=x.device)[:, None]
    t = n - torch.arange(rows, device=x.device)[None, :]
    valid = (t >= 0) & (t < frames)
    index = t.clamp(0, frames - 1)[None, :, :, None].expand(batch, -1, -1, arcs)
    out = x.gather(1, index).masked_fill(~valid[None, :, :, None], fill)
    return torch.nn.functional.pad(out, (0, 0, 1, 0), value=fill)


def _log_likelihood(
    weights: Tensor,
    blank_shifts: Sequence[int],
    token_shifts: Sequence[int],
    logit_lengths: Tensor,
    target_lengths: Tensor,
) -> Tensor:
    """``log P(y | x)`` per utterance by the forward algorithm over anti-diagonals.

    Args:
        weights: (B, T, U+1, K) log weights of the arcs leaving each node: first the
            blank arcs (time advances ``blank_shifts``), then the token arcs (emit
            ``y_{u+1}``, time advances ``token_shifts``).
        blank_shifts: frames each blank arc advances (all >= 1).
        token_shifts: frames each token arc advances (>= 0).
        logit_lengths, target_lengths: (B,) valid T and U of each utterance.

    Returns:
        (B,) log-likelihoods, ``-inf`` where no path exists.
    """
    batch, _, rows, _ = weights.shape
    log_zero = _log_zero(weights.dtype)
    arcs = _skew(weights, log_zero)  # (B, N, U+2, K), column c holds row u = c - 1
    n_diagonals = arcs.shape[1]
    pad = arcs.new_full((batch, 1), log_zero)
    start = arcs.new_full((batch, rows), log_zero)
    start[:, 0] = 0.0  # alpha(0, 0) = log 1
    # alphas[n][:, c] = alpha(n - (c - 1), c - 1), with the same pad column as `arcs`.
    alphas = [torch.cat([pad, start], dim=1)]
    blank_arcs = list(enumerate(blank_shifts))
    token_arcs = [(len(blank_shifts) + j, d) for j, d in enumerate(token_shifts)]
    for n in range(1, n_diagonals):
        terms = []
        for k, d in blank_arcs:  # (t - d, u) -> (t, u): diagonal n - d, same row
            if n - d >= 0:
                terms.append(alphas[n - d][:, 1:] + arcs[:, n - d, 1:, k])
        for k, d in token_arcs:  # (t - d, u - 1) -> (t, u): diagonal n - d - 1, row above
            if n - d - 1 >= 0:
                terms.append(alphas[n - d - 1][:, :-1] + arcs[:, n - d - 1, :-1, k])
        if terms:
            alpha = torch.logsumexp(torch.stack(terms), dim=0)
        else:  # no arc reaches this diagonal yet (every duration is longer than n)
            alpha = start.new_full((batch, rows), log_zero)
        alphas.append(torch.cat([pad, alpha], dim=1))

    # Termination: a blank of duration d from (T - d, U) lands exactly on frame T.
    history = torch.stack(alphas, dim=1)  # (B, N, U+2)
    frames = logit_lengths.to(weights.device)
    last_row = target_lengths.to(weights.device)
    ends = []
    for k, d in blank_arcs:
        diagonal = (frames - d + last_row).clamp(min=0)
        at = (torch.arange(batch, device=weights.device), diagonal, last_row + 1)
        end = history[at] + arcs[at + (k,)]
        ends.append(torch.where(frames - d >= 0, end, torch.full_like(end, log_zero)))
    log_like = torch.logsumexp(torch.stack(ends), dim=0)
    # Any real path scores far above log_zero / 2; anything below means no path exists.
    return torch.where(log_like > log_zero / 2, log_like, torch.full_like(log_like, float("-inf")))


def _arc_weights(
    joint: Tensor,
    targets: Tensor,
    n_tokens: int,
    durations: Sequence[int],
    blank: int,
    sigma: float,
    rnnt: bool,
) -> tuple[Tensor, list[int], list[int]]:
    """Arc log weights (B, T, U+1, K) and their time shifts, for TDT or plain RNN-T."""
    batch, _, rows, _ = joint.shape
    token_logits = joint[..., :n_tokens]
    norm = torch.logsumexp(token_logits, dim=-1)
    # Next target y_{u+1} per row; the last row (and padding) has none: any valid id will
    # do there, because those arcs never reach a node that counts.
    next_token = torch.full((batch, rows), blank, dtype=torch.long, device=joint.device)
    width = min(rows - 1, targets.shape[1])
    next_token[:, :width] = targets[:, :width].to(joint.device).long()
    next_token = torch.where((next_token >= 0) & (next_token < n_tokens), next_token, blank)
    index = next_token[:, None, :, None].expand(-1, joint.shape[1], -1, 1)
    token_lp = token_logits.gather(-1, index).squeeze(-1) - norm
    blank_lp = token_logits[..., blank] - norm
    if rnnt:  # standard RNN-T: blank moves one frame, a token none; no sigma
        return torch.stack([blank_lp, token_lp], dim=-1), [1], [0]
    duration_lp = torch.log_softmax(joint[..., n_tokens:], dim=-1)
    blank_shifts = [d for d in durations if d >= 1]
    blank_w = [blank_lp - sigma + duration_lp[..., i] for i, d in enumerate(durations) if d >= 1]
    token_w = [token_lp - sigma + duration_lp[..., i] for i in range(len(durations))]
    return torch.stack(blank_w + token_w, dim=-1), blank_shifts, list(durations)


def tdt_loss(
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
    """TDT loss of a batch (vectorised forward algorithm; autograd gives the gradients).

    Args:
        joint: (B, T, U+1, V+1+D) raw joint output: ``V + 1`` token logits (blank
            included), then one logit per duration, in the order of ``durations``.
        targets: (B, >= U) target token ids; entries past ``target_lengths`` are ignored.
        logit_lengths: (B,) encoder frames per utterance, in [1, T].
        target_lengths: (B,) target tokens per utterance, in [0, U].
        durations: the model's durations, e.g. ``[0, 1, 2, 3, 4]``.
        blank: blank's index among the token logits (NeMo: ``V``, the last one).
        sigma: logit under-normalisation subtracted from every token log-probability.
        omega: probability of using the standard RNN-T loss for this call instead.
        reduction: ``mean_batch`` | ``mean`` | ``mean_volume`` | ``sum`` | ``none``/None.
        rng: source of the ``omega`` draw (Python's ``random`` module by default, as NeMo).

    Returns:
        The reduced loss (scalar), or (B,) losses for ``none``. Half-precision joints are
        computed in float32. Utterances with no valid path give ``+inf`` (and no gradient).
    """
    n_tokens = check_inputs(joint, targets, logit_lengths, target_lengths, durations, blank)
    reduction = check_options(sigma, omega, reduction)
    if joint.dtype not in (torch.float32, torch.float64):
        joint = joint.float()  # log-space sums lose too much in 16-bit floats
    rnnt = draw_rnnt(omega, rng)
    durations = [int(d) for d in durations]
    weights, blank_shifts, token_shifts = _arc_weights(
        joint, targets, n_tokens, durations, blank, sigma, rnnt
    )
    log_like = _log_likelihood(weights, blank_shifts, token_shifts, logit_lengths, target_lengths)
    return reduce_losses(-log_like, target_lengths, reduction)
