"""Mode collapse where it can be seen: a GAN on a ring of eight Gaussians in the plane.

The data are eight tight Gaussians (standard deviation ``std``) evenly spaced on a circle
of radius ``radius`` (the toy of Metz et al. 2017, "Unrolled GANs", Fig. 1). A generator
that covers one mode at a time can fool a discriminator that judges one sample at a time:
each sample it draws *is* plausible, and when D learns to reject that mode, G moves all
its mass to another one. Nothing in the per-sample loss rewards covering every mode.

Packing (Lin et al. 2018, PacGAN) changes only the discriminator's input: D judges
``pack`` samples at once, all real or all generated,

    D([x_1, ..., x_m]) on m real samples   against   D([G(z_1), ..., G(z_m)]),

so a generator whose m samples keep landing on the same mode is told apart from the real
data, whose m samples fall on different modes most of the time. The losses are the
non-saturating ones of ``models.py``; the networks, learning rate and number of steps
are the same with and without packing, so the difference is the packing alone.

How a generator is scored (``mode_scores``): a sample is *high quality* when it lies
within 3 standard deviations of a mode's centre; a mode is *covered* when at least
``min_share`` of the samples are high-quality samples of that mode. Collapse itself shows
in ``largest_share``: the share of all samples (good or not) whose nearest mode is the most
common one: 1/8 for a generator spread over the ring, near 1 for one that collapsed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from dl_roadmap.pipelines.generative_gans.models import ns_discriminator_loss, ns_generator_loss
from dl_roadmap.rl.networks import mlp


def ring_centres(modes: int, radius: float) -> torch.Tensor:
    """The ``modes`` centres (modes, 2), evenly spaced on the circle, the first at angle 0."""
    angles = 2 * math.pi * torch.arange(modes, dtype=torch.float32) / modes
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], 1)


def ring_samples(n: int, modes: int, radius: float, std: float, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
    """n points (n, 2) from the equal mixture of the ring's Gaussians."""
    which = torch.randint(0, modes, (n,), generator=generator)
    return ring_centres(modes, radius)[which] + std * torch.randn(n, 2, generator=generator)


def mode_scores(points: torch.Tensor, modes: int, radius: float, std: float, min_share: float = 0.01
                ) -> dict[str, Any]:
    """Modes covered, share of high-quality samples and the high-quality count of each mode."""
    if points.dim() != 2 or points.shape[1] != 2:
        raise ValueError(f"mode_scores: expected points of shape (n, 2), got {tuple(points.shape)}")
    distance = torch.cdist(points.float(), ring_centres(modes, radius))
    nearest = distance.min(1)
    good = nearest.values < 3 * std
    counts = torch.bincount(nearest.indices[good], minlength=modes)
    return {"modes_covered": int((counts >= min_share * len(points)).sum()),
            "high_quality": float(good.float().mean()),
            "largest_share": float(torch.bincount(nearest.indices, minlength=modes).max() / len(points)),
            "per_mode": counts.tolist()}


class RingGan(nn.Module):
    """G: z (z_dim) -> point (2); D: ``pack`` points side by side (2 * pack) -> one logit.
    Both optimizers live here too, so the loop checkpoints them with the networks."""

    def __init__(self, z_dim: int, hidden: int, pack: int, lr: float, betas: tuple[float, float]):
        super().__init__()
        self.z_dim, self.pack = int(z_dim), int(pack)
        self.generator = mlp([self.z_dim, hidden, hidden, 2])          # two hidden ReLU layers each
        self.discriminator = mlp([2 * self.pack, hidden, hidden, 1])
        self.g_optimizer = torch.optim.Adam(self.generator.parameters(), lr=lr, betas=betas)
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=betas)

    def judge(self, points: torch.Tensor) -> torch.Tensor:
        """D's logits for consecutive groups of ``pack`` points: (n, 2) -> (n / pack,)."""
        return self.discriminator(points.reshape(-1, 2 * self.pack)).squeeze(1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.generator(torch.randn(n, self.z_dim, generator=generator))

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"networks": super().state_dict(*args, **kwargs), "g_optimizer": self.g_optimizer.state_dict(),
                "d_optimizer": self.d_optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        self.g_optimizer.load_state_dict(state["g_optimizer"])
        self.d_optimizer.load_state_dict(state["d_optimizer"])
        return super().load_state_dict(state["networks"], *args, **kwargs)


def train_step(gan: RingGan, real: torch.Tensor) -> dict[str, float]:
    """One discriminator step and one generator step on the non-saturating losses; the batch
    (a multiple of ``pack``) is judged in packs of ``pack``."""
    fake = gan.sample(len(real))
    d_loss = ns_discriminator_loss(gan.judge(real), gan.judge(fake))
    gan.d_optimizer.zero_grad()
    d_loss.backward()
    gan.d_optimizer.step()
    g_loss = ns_generator_loss(gan.judge(gan.generator(torch.randn(len(real), gan.z_dim))))
    gan.g_optimizer.zero_grad()
    g_loss.backward()
    gan.g_optimizer.step()
    return {"loss_discriminator": float(d_loss.detach()), "loss_generator": float(g_loss.detach())}


def train_ring_gan(ring: dict[str, Any], setting: dict[str, Any], name: str, trainer: dict[str, Any]
                   ) -> tuple[RingGan, list[dict[str, Any]]]:
    """Train one setting (``pack``) on the ring for ``ring["steps"]`` generator steps.

    Returns:
        The GAN and one snapshot every ``snapshot_every`` steps: the step, ``samples``
        generated points (from fixed noise) and their mode scores.
    """
    from dl_roadmap.core.loop import run_loop

    batch, pack = int(ring["batch_size"]), int(setting["pack"])
    if batch % pack:
        raise ValueError(f"generative_gans.ring: batch_size {batch} is not a multiple of {name}'s pack {pack}")
    torch.manual_seed(int(ring["seed"]))
    gan = RingGan(ring["z_dim"], ring["hidden"], pack, float(ring["lr"]), tuple(ring["betas"]))
    data = torch.Generator().manual_seed(int(ring["seed"]))
    shape = (int(ring["modes"]), float(ring["radius"]), float(ring["std"]))
    snapshots: list[dict[str, Any]] = []

    def iterate(state: RingGan, context) -> dict[str, float]:
        return train_step(state, ring_samples(batch, *shape, generator=data))

    def snapshot(state: RingGan, context) -> dict[str, float]:
        points = state.sample(int(ring["samples"]), torch.Generator().manual_seed(1))
        scores = mode_scores(points, *shape, min_share=float(ring["min_share"]))
        snapshots.append({"step": context.iteration + 1, "points": points.numpy(), **scores})
        return {key: scores[key] for key in ("modes_covered", "high_quality", "largest_share")}

    loop = {"max_iterations": int(ring["steps"]), "seed": int(ring["seed"]), "log_every": int(ring["snapshot_every"]),
            "eval_every": int(ring["snapshot_every"]), "checkpoint_every": None, "monitor": None}
    result = run_loop(gan, iterate, name=f"ring_{name}", loop_params=loop, trainer_params=trainer, evaluate=snapshot)
    return result.state, snapshots


def real_points(ring: dict[str, Any]) -> np.ndarray:
    """As many real points as a snapshot holds (for the figure's background)."""
    return ring_samples(int(ring["samples"]), int(ring["modes"]), float(ring["radius"]), float(ring["std"]),
                        torch.Generator().manual_seed(2)).numpy()
