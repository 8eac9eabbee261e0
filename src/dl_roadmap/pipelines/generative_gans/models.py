"""DCGAN-style generator and discriminator for 28x28 images, conditional or not, and the
three losses, written from their equations.

A generator G maps noise z ~ N(0, I) (and, conditioned, a one-hot class y) to an image;
a discriminator (critic) D scores an image. With d = D(x) the logit:

    non-saturating GAN (Goodfellow et al. 2014, Sec. 3):
        L_D = -log s(D(x)) - log(1 - s(D(G(z))))   = softplus(-D(x)) + softplus(D(G(z)))
        L_G = -log s(D(G(z)))                       = softplus(-D(G(z)))
      (the minimax L_G = log(1 - s(D(G(z)))) saturates when D wins early; -log D does not)

    WGAN-GP (Gulrajani et al. 2017, Algorithm 1, eq. 3):
        L_D = D(x~) - D(x) + lambda (||grad_x^ D(x^)||_2 - 1)^2,  x^ = e x + (1 - e) x~,  e ~ U[0, 1]
        L_G = -D(G(z))
      the critic has no batch norm (the penalty is per example); the paper's Adam: lr 1e-4,
      betas (0, 0.9), 5 critic steps per generator step, lambda = 10.

The conditional GAN (Mirza & Osindero 2014) feeds y to both: concatenated to z in G,
as 10 constant one-hot image planes beside the pixels in D.

Images are in [0, 1] (a sigmoid output), the range the yardstick and the MLflow model use.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

CLASSES = 10


class Generator(nn.Module):
    """z (N, z_dim) [+ one-hot y] -> Linear -> (2c, 7, 7) -> ConvT 14x14 (c) -> ConvT 28x28 -> sigmoid."""

    def __init__(self, z_dim: int = 64, channels: int = 32, classes: int = 0, batchnorm: bool = True):
        super().__init__()
        self.z_dim, self.classes = int(z_dim), int(classes)
        c = int(channels)
        norm = (lambda n: nn.BatchNorm2d(n)) if batchnorm else (lambda n: nn.Identity())
        self.net = nn.Sequential(
            nn.Linear(self.z_dim + self.classes, 2 * c * 7 * 7), nn.Unflatten(1, (2 * c, 7, 7)), norm(2 * c), nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1), norm(c), nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, 2, 1), nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.classes:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            z = torch.cat([z, F.one_hot(labels, self.classes).float()], 1)
        return self.net(z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
               ) -> torch.Tensor:
        """n images (n, 1, 28, 28) in [0, 1]; unconditioned labels default to 0..9 in turn."""
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        z = torch.randn(n, self.z_dim, generator=generator).to(device)
        if self.classes and labels is None:
            labels = torch.arange(n) % self.classes
        images = self(z, labels.to(device) if labels is not None else None)
        self.train(was_training)
        return images


class Discriminator(nn.Module):
    """Image (N, 1, 28, 28) [+ one-hot planes] -> Conv 14x14 (c) -> Conv 7x7 (2c) -> Linear -> logit.
    ``norm``: batch (DCGAN), layer (WGAN-GP's critic) or none."""

    def __init__(self, channels: int = 32, classes: int = 0, norm: str = "batch"):
        super().__init__()
        if norm not in ("batch", "layer", "none"):
            raise ValueError(f"discriminator norm: batch, layer or none, got {norm!r}")
        self.classes = int(classes)
        c = int(channels)
        layer = {"batch": nn.BatchNorm2d(2 * c), "layer": nn.GroupNorm(1, 2 * c), "none": nn.Identity()}[norm]
        self.net = nn.Sequential(
            nn.Conv2d(1 + self.classes, c, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, 4, 2, 1), layer, nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * c * 7 * 7, 1),
        )

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.classes:
            if labels is None:
                raise ValueError("a conditional discriminator needs labels")
            planes = F.one_hot(labels, self.classes).float()[:, :, None, None].expand(-1, -1, *images.shape[2:])
            images = torch.cat([images, planes], 1)
        return self.net(images).squeeze(1)


class Gan(nn.Module):
    """Generator + discriminator trained together; ``loss`` is ``ns`` or ``wgan_gp``."""

    def __init__(self, generator: Generator, discriminator: Discriminator, loss: str = "ns", gp_weight: float = 10.0):
        super().__init__()
        if loss not in ("ns", "wgan_gp"):
            raise ValueError(f"gan loss: ns or wgan_gp, got {loss!r}")
        self.generator, self.discriminator = generator, discriminator
        self.loss, self.gp_weight = loss, float(gp_weight)


def gan_from_config(config: dict[str, Any]) -> Gan:
    """A GAN from a model block: z_dim, channels, conditional, batchnorm, loss, gp_weight."""
    m = config["model"]
    classes = CLASSES if m.get("conditional") else 0
    norm = m.get("discriminator_norm") or ("layer" if m["loss"] == "wgan_gp" else "batch")
    torch.manual_seed(int(config["fit"].get("seed", 0)))
    return Gan(Generator(m["z_dim"], m["channels"], classes, batchnorm=m.get("batchnorm", True)),
               Discriminator(m["channels"], classes, norm=norm if m.get("batchnorm", True) else "none"),
               loss=m["loss"], gp_weight=m.get("gp_weight", 10.0))


# --- losses -------------------------------------------------------------------------------

def ns_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-log s(D(x)) - log(1 - s(D(G(z)))), using 1 - s(a) = s(-a) and -log s(a) = softplus(-a)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def ns_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss -log s(D(G(z)))."""
    return F.softplus(-fake_logits).mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None = None,
                     eps: torch.Tensor | None = None) -> torch.Tensor:
    """E[(||grad_x^ D(x^)||_2 - 1)^2] at x^ = e x + (1 - e) x~, one e ~ U[0, 1] per example.
    ``create_graph`` keeps the gradient differentiable, so the penalty trains the critic."""
    if eps is None:
        eps = torch.rand(len(real), 1, 1, 1, device=real.device)
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = critic(mixed, labels) if labels is not None else critic(mixed)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def gan_step(model: Gan, batch: Any, context: Any) -> dict[str, torch.Tensor]:
    """One turn of ``core.training.fit`` with two optimizers (see its docstring): the
    discriminator's turn returns ``loss_discriminator``, the generator's ``loss_generator``;
    validation (no optimizer) returns both."""
    real, labels = batch[0], batch[1]
    labels = labels if model.generator.classes else None
    z = torch.randn(len(real), model.generator.z_dim, device=real.device)
    d = model.discriminator
    out: dict[str, torch.Tensor] = {}
    if context.optimizer in ("discriminator", None):
        with torch.no_grad():
            fake = model.generator(z, labels)
        real_logits, fake_logits = d(real, labels), d(fake, labels)
        if model.loss == "ns":
            loss = ns_discriminator_loss(real_logits, fake_logits)
            out["d_real"] = torch.sigmoid(real_logits).mean()   # D's belief that real images are real
            out["d_fake"] = torch.sigmoid(fake_logits).mean()
        else:
            wasserstein = real_logits.mean() - fake_logits.mean()   # the critic's estimate of W(P_r, P_g)
            loss = -wasserstein
            if context.optimizer == "discriminator":  # validation runs without gradients: no penalty there
                penalty = gradient_penalty(d, real, fake, labels)
                loss = loss + model.gp_weight * penalty
                out["penalty"] = penalty.detach()
            out["wasserstein"] = wasserstein.detach()
        out["loss_discriminator"] = loss
    if context.optimizer in ("generator", None):
        fake_logits = d(model.generator(z, labels), labels)
        out["loss_generator"] = ns_generator_loss(fake_logits) if model.loss == "ns" else -fake_logits.mean()
    return out
