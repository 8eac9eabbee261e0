"""Self-supervised pretraining methods around one encoder (``autoencoder.ConvEncoder``).

Every method is an ``nn.Module`` with an ``encoder`` (the part kept for downstream tasks)
and ``ssl_loss(images, augment, global_step) -> {"loss", "acc"}``; ``ssl_step`` is the
step ``core.training.fit`` calls. The objectives are in ``ssl_losses``.

- ``SimCLR`` (Chen et al. 2020): encoder f, projection head g; NT-Xent between g(f(v1)) and
  g(f(v2)) of two random views, the other 2N - 2 views of the batch as negatives.
- ``MoCo`` (He et al. 2020; v2: Chen et al. 2020b, MLP head and stronger augmentation):
  a query encoder theta_q trained by InfoNCE against keys from a momentum encoder,

      theta_k <- m theta_k + (1 - m) theta_q              (after every optimizer step)

  and a FIFO queue of the last K keys as negatives (enqueue the batch's keys, drop the
  oldest). "Shuffling BN" (Section 3.3) is emulated on one device: keys are computed in
  ``bn_splits`` groups of a shuffled batch, queries in groups of the batch in order, so a
  query and its key never share BatchNorm statistics.
- ``BYOL`` (Grill et al. 2020): online encoder + projector + predictor q; target encoder +
  projector, an exponential moving average of the online ones with the cosine schedule

      tau_k = 1 - (1 - tau_base) (cos(pi k / K) + 1) / 2,

  no negatives; the stop-gradient on the target is what keeps it from collapsing.
- ``RotationPrediction`` (Gidaris et al. 2018): each image rotated by 0, 90, 180, 270
  degrees, all four in the same batch; a 4-way classifier on the encoder's code.
The reconstruction baseline is ``autoencoder.ConvAutoencoder`` with ``reconstruction_step``.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.image.ssl_augment import random_view, two_views
from dl_roadmap.image.ssl_losses import info_nce_queue, normalized_regression, nt_xent


def projection_head(d_in: int, hidden: int, out: int, layers: int = 2) -> nn.Module:
    """SimCLR's g: 2 layers = Linear -> BatchNorm -> ReLU -> Linear; 1 = Linear; 0 = identity."""
    if layers == 0:
        return nn.Identity()
    if layers == 1:
        return nn.Linear(d_in, out)
    return nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out))


def head_width(d_in: int, head: dict[str, Any]) -> int:
    """Width of a head's output (``d_in`` when the head is the identity)."""
    return d_in if int(head.get("layers", 2)) == 0 else int(head["out"])


def frozen_copy(module: nn.Module) -> nn.Module:
    """A copy whose parameters get no gradient: the momentum / target network."""
    twin = copy.deepcopy(module)
    for parameter in twin.parameters():
        parameter.requires_grad_(False)
    return twin


@torch.no_grad()
def ema_update(target: nn.Module, online: nn.Module, momentum: float) -> None:
    """theta_target <- m theta_target + (1 - m) theta_online, parameter by parameter."""
    for t, o in zip(target.parameters(), online.parameters()):
        t.mul_(momentum).add_(o.detach(), alpha=1 - momentum)


def cosine_momentum(base: float, step: int, total_steps: int) -> float:
    """BYOL's schedule: tau_base at step 0, rising to 1 at ``total_steps``."""
    progress = min(step, total_steps) / max(total_steps, 1)
    return 1 - (1 - base) * (math.cos(math.pi * progress) + 1) / 2


class SimCLR(nn.Module):
    def __init__(self, encoder: nn.Module, head: dict[str, Any], temperature: float = 0.5):
        super().__init__()
        self.encoder, self.temperature = encoder, float(temperature)
        self.projector = projection_head(encoder.latent_dim, int(head.get("hidden", 256)),
                                         head_width(encoder.latent_dim, head), int(head.get("layers", 2)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def ssl_loss(self, images: torch.Tensor, augment: dict | None, global_step: int) -> dict[str, torch.Tensor]:
        v1, v2 = two_views(images, augment)
        z = self.projector(self.encoder(torch.cat([v1, v2])))     # one pass: BatchNorm sees both views
        loss, acc = nt_xent(z[: len(images)], z[len(images):], self.temperature)
        return {"loss": loss, "acc": acc}


def _in_groups(module: nn.Module, x: torch.Tensor, groups: int) -> torch.Tensor:
    """``module`` applied to ``groups`` slices of the batch separately (BatchNorm per slice)."""
    return torch.cat([module(part) for part in x.chunk(groups)])


class MoCo(nn.Module):
    def __init__(self, encoder: nn.Module, head: dict[str, Any], temperature: float = 0.2, queue_size: int = 4096,
                 momentum: float = 0.99, bn_splits: int = 4):
        super().__init__()
        self.encoder = encoder
        self.projector = projection_head(encoder.latent_dim, int(head.get("hidden", 256)),
                                         head_width(encoder.latent_dim, head), int(head.get("layers", 2)))
        self.key_encoder, self.key_projector = frozen_copy(self.encoder), frozen_copy(self.projector)
        self.temperature, self.momentum, self.bn_splits = float(temperature), float(momentum), int(bn_splits)
        self.register_buffer("queue", F.normalize(torch.randn(int(queue_size), head_width(encoder.latent_dim, head)), dim=1))
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    @torch.no_grad()
    def momentum_update(self) -> None:
        ema_update(self.key_encoder, self.encoder, self.momentum)
        ema_update(self.key_projector, self.projector, self.momentum)

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor) -> None:
        """Write the batch's keys over the oldest entries (a ring buffer: FIFO)."""
        size, ptr = self.queue.shape[0], int(self.queue_ptr)
        index = (ptr + torch.arange(keys.shape[0], device=keys.device)) % size
        self.queue[index] = keys
        self.queue_ptr.fill_((ptr + keys.shape[0]) % size)

    @torch.no_grad()
    def keys(self, views: torch.Tensor) -> torch.Tensor:
        """Unit keys from the momentum encoder, BatchNorm in groups of a shuffled batch."""
        order = torch.randperm(views.shape[0], device=views.device)
        shuffled = _in_groups(lambda x: self.key_projector(self.key_encoder(x)), views[order], self.bn_splits)
        return F.normalize(shuffled[torch.argsort(order)], dim=1)

    def ssl_loss(self, images: torch.Tensor, augment: dict | None, global_step: int) -> dict[str, torch.Tensor]:
        if self.training:
            self.momentum_update()   # the update after the previous optimizer step
        v1, v2 = two_views(images, augment)
        q = F.normalize(_in_groups(lambda x: self.projector(self.encoder(x)), v1, self.bn_splits), dim=1)
        k = self.keys(v2)
        loss, acc = info_nce_queue(q, k, self.queue.clone(), self.temperature)
        if self.training:
            self.enqueue(k)
        return {"loss": loss, "acc": acc}


class BYOL(nn.Module):
    def __init__(self, encoder: nn.Module, head: dict[str, Any], predictor_hidden: int = 256,
                 momentum: float = 0.99, total_steps: int = 1000):
        super().__init__()
        self.encoder = encoder
        width = head_width(encoder.latent_dim, head)
        self.projector = projection_head(encoder.latent_dim, int(head.get("hidden", 256)), width, int(head.get("layers", 2)))
        self.predictor = projection_head(width, int(predictor_hidden), width, 2)
        self.target_encoder, self.target_projector = frozen_copy(self.encoder), frozen_copy(self.projector)
        self.base_momentum, self.total_steps = float(momentum), int(total_steps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def ssl_loss(self, images: torch.Tensor, augment: dict | None, global_step: int) -> dict[str, torch.Tensor]:
        if self.training:
            tau = cosine_momentum(self.base_momentum, global_step, self.total_steps)
            ema_update(self.target_encoder, self.encoder, tau)
            ema_update(self.target_projector, self.projector, tau)
        n = images.shape[0]
        views = torch.cat(two_views(images, augment))
        p = self.predictor(self.projector(self.encoder(views)))
        with torch.no_grad():                                       # sg(z')
            z = self.target_projector(self.target_encoder(views))
        loss = normalized_regression(p[:n], z[n:]) + normalized_regression(p[n:], z[:n])
        # How often a prediction is closest to its own target among the batch's (not trained for).
        match = F.normalize(p[:n], dim=1) @ F.normalize(z[n:], dim=1).T
        acc = (match.argmax(1) == torch.arange(n, device=p.device)).float().mean()
        return {"loss": loss, "acc": acc}


class RotationPrediction(nn.Module):
    def __init__(self, encoder: nn.Module, head: dict[str, Any]):
        super().__init__()
        self.encoder = encoder
        hidden = int(head.get("hidden", 128))
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(encoder.latent_dim, hidden), nn.BatchNorm1d(hidden),
                                  nn.ReLU(inplace=True), nn.Linear(hidden, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def ssl_loss(self, images: torch.Tensor, augment: dict | None, global_step: int) -> dict[str, torch.Tensor]:
        x = random_view(images, augment) if (augment and self.training) else images
        rotated = torch.cat([torch.rot90(x, r, dims=(2, 3)) for r in range(4)])
        targets = torch.arange(4, device=x.device).repeat_interleave(x.shape[0])
        logits = self.head(self.encoder(rotated))
        return {"loss": F.cross_entropy(logits, targets), "acc": (logits.argmax(1) == targets).float().mean()}


def ssl_step(model: nn.Module, batch: Any, context: Any, augment: dict | None = None) -> dict[str, torch.Tensor]:
    """The fit step of every contrastive / predictive method: images only, labels unused."""
    return model.ssl_loss(batch[0], augment, context.global_step)
