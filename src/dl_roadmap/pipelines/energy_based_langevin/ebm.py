"""An energy-based model of images trained with short-run Langevin dynamics, as JEM
(Grathwohl et al. 2019, "Your classifier is secretly an energy based model").

A classifier f(x) gives 10 logits. Read as an energy model of (x, y) and of x alone::

    p(y | x) = softmax(f(x))_y                      the usual classifier
    E(x) = -logsumexp_y f(x)_y,   p(x) = exp(-E(x)) / Z

Maximum likelihood of p(x) has the gradient  d/dtheta log p(x) = -dE(x)/dtheta + E_model[dE/dtheta]:
push the energy of data down, and that of the model's own samples up. The samples come from
K steps of stochastic gradient Langevin dynamics (SGLD) on the image::

    x_{k+1} = x_k - alpha * dE(x_k)/dx + sigma * N(0, I)

started from a replay buffer of earlier samples (re-initialised from uniform noise with a
small probability), as Du & Mordatch (2019) and JEM do, so that K = 10-20 steps suffice.
The loss per batch is JEM's, with Du & Mordatch's energy-magnitude penalty for stability::

    L = CE(f(x), y) + E(x_data) - E(x_sample) + lambda (E(x_data)^2 + E(x_sample)^2)

Images are scaled to [-1, 1] inside the model. No batch normalisation: it would make E(x) of
one image depend on the rest of the batch, and SGLD needs a per-image energy.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class EnergyNet(nn.Module):
    """Images (N, 1, 28, 28) in [0, 1] -> class logits (N, 10); ``energy`` is
    -logsumexp of the logits. Strided 3x3 convolutions with Swish (SiLU), then one linear layer."""

    def __init__(self, channels: list[int] | tuple[int, ...] = (16, 32, 64), classes: int = 10, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        layers: list[nn.Module] = [nn.Conv2d(1, channels[0], 3, padding=1), nn.SiLU()]
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.SiLU()]
        layers += [nn.Conv2d(channels[-1], channels[-1], 3, stride=2, padding=1), nn.SiLU()]
        self.features = nn.Sequential(*layers)
        size = 28
        for _ in range(len(channels)):
            size = (size + 1) // 2
        self.head = nn.Linear(channels[-1] * size * size, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(2 * x - 1).flatten(1))

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """E(x) = -logsumexp_y f(x)_y, one value per image."""
        return -torch.logsumexp(self(x), dim=1)


def langevin(model: EnergyNet, x: torch.Tensor, steps: int, step_size: float, noise: float,
             generator: torch.Generator | None = None, keep_every: int = 0) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``steps`` SGLD steps x <- x - step_size dE/dx + noise N(0, I), clamped to [0, 1].

    Returns:
        The final images (detached) and, with ``keep_every``, snapshots along the chain.
    """
    was_training = model.training
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    x = x.detach().clone()
    frames = [x.clone()] if keep_every else []
    for k in range(1, steps + 1):
        x.requires_grad_(True)
        grad, = torch.autograd.grad(model.energy(x).sum(), x)
        with torch.no_grad():
            x = (x - step_size * grad + noise * torch.randn(x.shape, generator=generator)).clamp_(0, 1)
        if keep_every and k % keep_every == 0:
            frames.append(x.clone())
    for p in model.parameters():
        p.requires_grad_(True)
    model.train(was_training)
    return x.detach(), frames


class ReplayBuffer:
    """Past SGLD samples; each draw restarts a ``reinit`` share of chains from uniform noise."""

    def __init__(self, size: int, reinit: float, generator: torch.Generator):
        self.images = torch.rand(size, 1, 28, 28, generator=generator)
        self.reinit, self.generator = reinit, generator

    def draw(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.randint(0, len(self.images), (n,), generator=self.generator)
        x = self.images[index].clone()
        fresh = torch.rand(n, generator=self.generator) < self.reinit
        x[fresh] = torch.rand(int(fresh.sum()), 1, 28, 28, generator=self.generator)
        return x, index

    def put(self, x: torch.Tensor, index: torch.Tensor) -> None:
        self.images[index] = x


def train_ebm(model: EnergyNet, images: torch.Tensor, labels: torch.Tensor, config: dict[str, Any],
              log: Any = None) -> list[dict[str, float]]:
    """JEM training for ``config["iterations"]`` batches (``generative: false`` trains the same
    net by cross-entropy alone, the baseline). ``log(metrics, step)`` gets the running means
    every ``log_every`` iterations.

    Returns:
        One row per logged iteration: ce, acc, e_data, e_sample (means since the last row).
    """
    from tqdm.auto import tqdm

    g = torch.Generator().manual_seed(int(config["seed"]))
    opt = torch.optim.Adam(model.parameters(), lr=float(config["lr"]), betas=(0.0, 0.999))
    sgld = config["sgld"]
    buffer = ReplayBuffer(int(sgld["buffer_size"]), float(sgld["reinit"]), g)
    generative = bool(config.get("generative", True))
    rows, running = [], {}
    model.train()
    for it in tqdm(range(1, int(config["iterations"]) + 1), desc="ebm" if generative else "classifier",
                   mininterval=5, leave=False):
        index = torch.randint(0, len(images), (int(config["batch_size"]),), generator=g)
        x, y = images[index], labels[index]
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        stats = {"ce": float(loss.detach()), "acc": float((logits.argmax(1) == y).float().mean())}
        if generative:
            start, slots = buffer.draw(len(x))
            samples, _ = langevin(model, start, int(sgld["steps"]), float(sgld["step_size"]), float(sgld["noise"]), g)
            buffer.put(samples, slots)
            e_data = -torch.logsumexp(logits, 1)
            e_sample = model.energy(samples)
            loss = loss + float(config["alpha"]) * (e_data.mean() - e_sample.mean()) \
                + float(config["energy_penalty"]) * (e_data ** 2 + e_sample ** 2).mean()
            stats.update(e_data=float(e_data.detach().mean()), e_sample=float(e_sample.detach().mean()))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if not math.isfinite(float(loss.detach())):
            raise FloatingPointError(f"EBM training diverged at iteration {it} (loss {float(loss)}): "
                                     "lower lr or sgld.step_size, or raise energy_penalty")
        for key, value in stats.items():
            running.setdefault(key, []).append(value)
        if it % int(config["log_every"]) == 0 or it == int(config["iterations"]):
            row = {"iteration": it, **{key: sum(v) / len(v) for key, v in running.items()}}
            rows.append(row)
            running = {}
            if log is not None:
                log({key: value for key, value in row.items() if key != "iteration"}, it)
    model.eval()
    return rows


class LangevinSampler(nn.Module):
    """The EBM as a generator: ``steps`` SGLD steps from uniform noise (no replay buffer: each
    call is a fresh short-run chain, reproducible from its generator)."""

    def __init__(self, model: EnergyNet, steps: int, step_size: float, noise: float):
        super().__init__()
        self.model, self.steps, self.step_size, self.noise = model, int(steps), float(step_size), float(noise)

    def sample(self, n: int, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
               ) -> torch.Tensor:
        if labels is not None:
            raise ValueError("the Langevin sampler draws from p(x): no labels")
        x = torch.rand(int(n), 1, 28, 28, generator=generator)
        with torch.enable_grad():
            out, _ = langevin(self.model, x, self.steps, self.step_size, self.noise, generator)
        return out

    def forward(self, n: int) -> torch.Tensor:
        return self.sample(n)
