"""First-order optimizers written from their update equations.

Each class is a ``torch.optim.Optimizer`` that gives the same parameter trajectory as its
``torch.optim`` namesake with the same hyper-parameters (tests/pipelines/optimization
checks it in float64), so the fit parameters can name either::

    optimizer: {name: dl_roadmap.pipelines.optimization.optimizers.Adam, lr: 0.001}

Notation: θ parameters, g = ∇L(θ) the gradient of the current batch, η the learning rate,
λ the weight decay, t = 1, 2, ... the step. Per-parameter state (m, v, buffers) lives in
``self.state[p]`` like torch's, so checkpoints save and restore it.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch


class _FirstOrder(torch.optim.Optimizer):
    """Shared plumbing: the closure Lightning passes, and a loop over parameters with gradients."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]):
        for key in ("lr", "weight_decay"):
            if key in defaults and defaults[key] < 0:
                raise ValueError(f"optimizer.{key}: must be >= 0, got {defaults[key]!r}")
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, p.grad, group, self.state[p])
        return loss

    def update(self, p: torch.Tensor, grad: torch.Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        raise NotImplementedError


class SGD(_FirstOrder):
    """Stochastic gradient descent, with optional (Nesterov) momentum and L2 weight decay.

    Plain:      θ ← θ − η g,                      g = ∇L(θ) + λθ
    Momentum:   b ← μ b + g   (b = g at t = 1),   θ ← θ − η b
    Nesterov:   b as above,                        θ ← θ − η (g + μ b)

    Momentum sums past gradients with decaying weights μ^k: steps grow along directions
    the gradients agree on (about η/(1−μ) per unit gradient) and cancel across ravines.
    Nesterov evaluates the correction "one step ahead", here in its usual rewritten form.
    Whether this is mini-batch SGD or full-batch gradient descent is only a matter of
    which batch produced g (see GradientDescent).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        if nesterov and momentum <= 0:
            raise ValueError("optimizer.nesterov: needs momentum > 0")
        super().__init__(params, {"lr": lr, "momentum": momentum, "nesterov": nesterov, "weight_decay": weight_decay})

    def update(self, p, grad, group, state):
        if group["weight_decay"]:
            grad = grad.add(p, alpha=group["weight_decay"])
        mu = group["momentum"]
        if mu:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.clone()
            else:
                state["momentum_buffer"].mul_(mu).add_(grad)
            buffer = state["momentum_buffer"]
            grad = grad.add(buffer, alpha=mu) if group["nesterov"] else buffer
        p.add_(grad, alpha=-group["lr"])


class GradientDescent(SGD):
    """Full-batch gradient descent: θ ← θ − η ∇L(θ) with the gradient of the *whole*
    training set. The update is SGD's without momentum; what makes it "full batch" is
    ``fit.batch_size`` equal to the training set size, so one epoch is one step."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-1, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, weight_decay=weight_decay)


class RMSprop(_FirstOrder):
    """RMSprop (Tieleman & Hinton 2012): divide each coordinate's step by a running RMS of
    its gradients.

        g = ∇L(θ) + λθ
        v ← α v + (1 − α) g²        (v = 0 at start)
        θ ← θ − η g / (√v + ε)

    Coordinates with consistently large gradients take smaller steps and vice versa; there
    is no bias correction, so the first steps are larger than η (v starts at 0).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay})

    def update(self, p, grad, group, state):
        if group["weight_decay"]:
            grad = grad.add(p, alpha=group["weight_decay"])
        if "square_avg" not in state:
            state["square_avg"] = torch.zeros_like(p)
        v = state["square_avg"]
        v.mul_(group["alpha"]).addcmul_(grad, grad, value=1 - group["alpha"])
        p.addcdiv_(grad, v.sqrt().add_(group["eps"]), value=-group["lr"])


class Adam(_FirstOrder):
    """Adam (Kingma & Ba 2015): momentum on the gradient, RMSprop on its scale, both
    bias-corrected.

        g = ∇L(θ) + λθ                                (L2 decay, coupled to the gradient)
        m ← β₁ m + (1 − β₁) g,     v ← β₂ v + (1 − β₂) g²       (m = v = 0 at start)
        m̂ = m / (1 − β₁ᵗ),         v̂ = v / (1 − β₂ᵗ)             (bias correction)
        θ ← θ − η m̂ / (√v̂ + ε)

    m and v are exponential moving averages started at 0, so early on they are biased
    toward 0 by the factor (1 − βᵗ); dividing by it removes the bias (Sec. 3 of the paper;
    the same correction is used for the loss EMA in this pipeline's moving-averages plot).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        beta1, beta2 = betas
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"optimizer.betas: both in [0, 1), got {tuple(betas)!r}")
        super().__init__(params, {"lr": lr, "betas": (beta1, beta2), "eps": eps, "weight_decay": weight_decay})

    def decay(self, p: torch.Tensor, grad: torch.Tensor, group: dict[str, Any]) -> torch.Tensor:
        """Adam's weight decay: λθ added to the gradient (so it is rescaled by 1/√v̂ too)."""
        return grad.add(p, alpha=group["weight_decay"]) if group["weight_decay"] else grad

    def update(self, p, grad, group, state):
        grad = self.decay(p, grad, group)
        if not state:
            state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
        state["step"] += 1
        t, (beta1, beta2) = state["step"], group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(beta1).add_(grad, alpha=1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p.addcdiv_(m_hat, v_hat.sqrt().add_(group["eps"]), value=-group["lr"])


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with *decoupled* weight decay.

        θ ← θ − η λ θ                 (shrink the weights directly)
        then Adam's update with g = ∇L(θ) (no λθ in the gradient)

    In Adam, λθ passes through 1/√v̂, so weights with large gradients are barely decayed;
    decoupling makes the decay the same relative shrinkage for every weight, which is what
    L2 regularisation means for plain SGD.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def decay(self, p, grad, group):
        if group["weight_decay"]:
            p.mul_(1 - group["lr"] * group["weight_decay"])
        return grad


OPTIMIZERS = {cls.__name__: cls for cls in (GradientDescent, SGD, RMSprop, Adam, AdamW)}
