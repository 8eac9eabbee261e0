"""The CPU TDT loss inside NeMo models: NeMo computes its TDT loss with a CUDA kernel only,
so :func:`use_cpu_tdt_loss` puts :class:`CpuTDTLoss` (``tdt_loss`` for CPU tensors, NeMo's
kernel for CUDA ones) into a model's ``RNNTLoss``."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from dl_roadmap.asr.tdt_loss import tdt_loss


# NeMo's own TDT loss classes ("tdt" and "tdt_pytorch" losses), matched by name so that
# this module does not import NeMo (slow) just to recognise them.
_NEMO_TDT_LOSSES = ("TDTLossNumba", "TDTLossPytorch")


class CpuTDTLoss(nn.Module):
    """Stands in for NeMo's TDT loss inside ``RNNTLoss`` (its ``_loss`` attribute).

    Same call as NeMo's inner losses: ``forward(acts, labels, act_lens, label_lens)``
    with the raw joint output as ``acts``, and a ``reduction`` attribute that
    ``RNNTLoss.forward`` sets to None around the call (None/``"none"``: per-utterance
    losses; ``"sum"``; ``"mean"``: mean over the batch, as NeMo's inner losses read it).
    CUDA tensors go to ``cuda_loss`` (NeMo's kernel) when one is given; everything else is
    computed by :func:`tdt_loss`. On CPU NeMo's ``RNNTJoint`` log-softmaxes its whole
    output (tokens and durations together); that shifts both groups of logits by the same
    constant, which the separate normalisations here cancel, so it changes nothing.
    """

    def __init__(
        self,
        blank: int,
        durations: Sequence[int],
        sigma: float = 0.0,
        omega: float = 0.0,
        reduction: str | None = None,
        cuda_loss: nn.Module | None = None,
        fastemit_lambda: float = 0.0,
        clamp: float = 0.0,
    ) -> None:
        super().__init__()
        self.blank = int(blank)
        self.durations = [int(d) for d in durations]
        self.sigma = float(sigma)
        self.omega = float(omega)
        self.reduction = reduction
        self.cuda_loss = cuda_loss
        self.fastemit_lambda = float(fastemit_lambda)
        self.clamp = float(clamp)

    def forward(self, acts: Tensor, labels: Tensor, act_lens: Tensor, label_lens: Tensor) -> Tensor:
        """Loss of a batch; see the class docstring for ``reduction``."""
        if acts.is_cuda and self.cuda_loss is not None:
            self.cuda_loss.reduction = self.reduction
            return self.cuda_loss(acts=acts, labels=labels, act_lens=act_lens, label_lens=label_lens)
        if self.fastemit_lambda > 0.0 or self.clamp > 0.0:
            # Both change the gradients NeMo's kernel produces; autograd here would silently ignore them.
            raise NotImplementedError(
                "the CPU TDT loss does not implement fastemit_lambda > 0 or clamp > 0 "
                f"(got fastemit_lambda={self.fastemit_lambda}, clamp={self.clamp}); "
                "set them to 0 to train on CPU"
            )
        reduction = {None: "none", "none": "none", "sum": "sum", "mean": "mean_batch"}.get(self.reduction)
        if reduction is None:
            raise ValueError(f"reduction must be None, 'none', 'sum' or 'mean', got {self.reduction!r}")
        return tdt_loss(
            acts, labels, act_lens, label_lens, self.durations, self.blank, self.sigma, self.omega, reduction
        )


def use_cpu_tdt_loss(model: nn.Module) -> bool:
    """Let a NeMo TDT model (``EncDecRNNTModel`` / ``EncDecRNNTBPEModel``) train on CPU.

    Replaces NeMo's TDT loss inside ``model.loss`` (an ``RNNTLoss``; the fused
    ``model.joint`` path calls the same object) by :class:`CpuTDTLoss`, which keeps NeMo's
    loss for CUDA tensors, so the model can be moved between devices afterwards. Nothing
    changes for a model without a TDT loss. Call it again after anything that rebuilds
    ``model.loss`` (NeMo's ``change_vocabulary`` does); calling it twice is harmless.

    Returns:
        True when the model has a TDT loss (now CPU-capable), False otherwise.

    Raises:
        ValueError: the model's config asks for a TDT loss but ``model.loss`` is not one,
            or its blank index or durations disagree with the joint network.
    """
    # RNNTLoss objects whose inner loss may be NeMo's TDT loss; the fused joint usually
    # holds the same object as model.loss.
    holders = []
    for holder in (getattr(model, "loss", None), getattr(getattr(model, "joint", None), "_loss", None)):
        if holder is not None and hasattr(holder, "_loss") and all(holder is not h for h in holders):
            holders.append(holder)
    found = False
    for holder in holders:
        inner = holder._loss
        if isinstance(inner, CpuTDTLoss):
            found = True
            continue
        if type(inner).__name__ not in _NEMO_TDT_LOSSES:
            continue
        _check_against_joint(model, int(inner.blank), list(inner.durations))
        holder._loss = CpuTDTLoss(
            blank=inner.blank,
            durations=inner.durations,
            sigma=getattr(inner, "sigma", 0.0),
            omega=getattr(inner, "omega", 0.0),
            reduction=inner.reduction,
            cuda_loss=inner,
            fastemit_lambda=getattr(inner, "fastemit_lambda", 0.0),
            clamp=getattr(inner, "clamp", 0.0),
        )
        found = True
    if not found and "tdt" in _configured_loss_name(model):
        raise ValueError(
            f"the model's config asks for a TDT loss ({_configured_loss_name(model)!r}) but model.loss "
            f"computes {type(getattr(getattr(model, 'loss', None), '_loss', None)).__name__}; NeMo's "
            "change_vocabulary rebuilds the loss without TDT: rebuild model.loss as a TDT RNNTLoss first"
        )
    return found


def _configured_loss_name(model: nn.Module) -> str:
    """The ``loss.loss_name`` in a NeMo model's config, or "" when there is none."""
    cfg = getattr(model, "cfg", None)
    loss_cfg = cfg.get("loss", None) if hasattr(cfg, "get") else None
    name = loss_cfg.get("loss_name", "") if hasattr(loss_cfg, "get") else ""
    return str(name or "")


def _check_against_joint(model: nn.Module, blank: int, durations: list[int]) -> None:
    """The loss's blank and durations must match the joint's layout (V + 1 tokens, then D)."""
    joint = getattr(model, "joint", None)
    if joint is None or not hasattr(joint, "num_classes_with_blank"):
        return
    extra = int(getattr(joint, "num_extra_outputs", 0))
    joint_blank = int(joint.num_classes_with_blank) - 1 - extra
    if blank != joint_blank or len(durations) != extra:
        raise ValueError(
            f"model.loss has blank={blank} and {len(durations)} durations {durations}, but the joint "
            f"outputs {joint.num_classes_with_blank} classes with {extra} duration logits "
            f"(blank={joint_blank}); rebuild model.loss for the joint's vocabulary"
        )
