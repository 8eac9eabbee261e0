"""The variational autoencoder (Kingma & Welling 2014) and the importance-weighted bound
(Burda et al. 2016), written from their equations.

A latent z ~ p(z) = N(0, I) generates a binary image x ~ p(x|z) = prod_i Bernoulli(x_i; pi_i(z)),
pi = sigmoid(decoder(z)). The encoder gives q(z|x) = N(mu(x), diag sigma^2(x)). Then

    log p(x) >= ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))                     (1)
    KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)           (Kingma & Welling, App. B)

and z = mu + sigma * eps, eps ~ N(0, I) (the reparameterization) makes (1) differentiable in
the encoder. beta-VAE (Higgins et al. 2017) trains on E_q[log p(x|z)] - beta KL: the KL is the
*rate* (nats the code carries about x), -E_q[log p(x|z)] the *distortion* (Alemi et al. 2018).

The importance-weighted bound with k samples z_1..z_k ~ q(z|x):

    L_k(x) = log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)                              (2)

L_1 is a one-sample estimate of (1), L_k <= L_{k+1} <= log p(x) in expectation, and
L_k -> log p(x) as k grows: -L_5000 is the test NLL Burda et al. report (86.76 nats for a VAE
with one stochastic layer on MNIST, their Table 1).

A conditional VAE (Sohn et al. 2015) feeds a one-hot class y to both encoder and decoder:
q(z|x, y), p(x|z, y); sampling with a chosen y draws that class.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

LOG_2PI = math.log(2 * math.pi)


def mlp(sizes: list[int], activation: str) -> nn.Sequential:
    """Linear layers between ``sizes``, the activation between them (none after the last)."""
    act = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU}[activation]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per example, in closed form."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag exp(logvar)), summed over the last axis."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x|z) = sum_i x_i log pi_i + (1 - x_i) log(1 - pi_i), pi = sigmoid(logits)."""
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(-1)


class VAE(nn.Module):
    """MLP encoder x -> (mu, log sigma^2), MLP decoder z -> Bernoulli logits of 784 pixels.
    With ``classes`` > 0 a one-hot label joins the input of both (the conditional VAE)."""

    def __init__(self, hidden: list[int], latent: int, classes: int = 0, activation: str = "tanh",
                 beta: float = 1.0, pixels: int = 784):
        super().__init__()
        self.latent, self.classes, self.beta, self.pixels = int(latent), int(classes), float(beta), int(pixels)
        self.encoder = mlp([self.pixels + self.classes, *hidden, 2 * self.latent], activation)
        self.decoder = mlp([self.latent + self.classes, *reversed(hidden), self.pixels], activation)

    def _with_label(self, h: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if not self.classes:
            return h
        if labels is None:
            raise ValueError("a conditional VAE needs labels")
        one_hot = F.one_hot(labels, self.classes).to(h.dtype)
        if h.dim() == 3:  # (k, N, latent): the same label for every importance sample
            one_hot = one_hot.expand(h.shape[0], -1, -1)
        return torch.cat([h, one_hot], -1)

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(self._with_label(x.flatten(1), labels)).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Bernoulli logits of the pixels, shape (..., 784)."""
        return self.decoder(self._with_label(z, labels))

    def elbo_terms(self, x: torch.Tensor, labels: torch.Tensor | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per example: log p(x|z) at one reparameterized z, and the closed-form KL."""
        mu, logvar = self.encode(x, labels)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return bernoulli_log_likelihood(self.decode(z, labels), x.flatten(1)), gaussian_kl(mu, logvar)

    def log_weights(self, x: torch.Tensor, k: int, labels: torch.Tensor | None = None,
                    generator: torch.Generator | None = None) -> torch.Tensor:
        """log p(x|z_i) + log p(z_i) - log q(z_i|x) for k samples z_i ~ q(z|x): shape (k, N)."""
        x = x.flatten(1)
        mu, logvar = self.encode(x, labels)
        eps = torch.randn((k, *mu.shape), generator=generator).to(mu)
        z = mu + eps * (0.5 * logvar).exp()
        log_px = bernoulli_log_likelihood(self.decode(z, labels).flatten(0, 1), x.repeat(k, 1)).view(k, -1)
        log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
        return log_px + log_pz - log_normal(z, mu, logvar)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
               ) -> torch.Tensor:
        """n images (n, 1, 28, 28): the Bernoulli means pi(z), z ~ N(0, I); a conditional
        model without labels draws the classes 0..9 in turn."""
        z = torch.randn(n, self.latent, generator=generator)
        if self.classes and labels is None:
            labels = torch.arange(n) % self.classes
        return torch.sigmoid(self.decode(z, labels)).view(n, 1, 28, 28)


def iwae_bound(model: VAE, x: torch.Tensor, k: int, labels: torch.Tensor | None = None,
               generator: torch.Generator | None = None, chunk: int = 100) -> torch.Tensor:
    """L_k(x) per example, eq. (2): logsumexp of the k log weights minus log k. The k
    samples are drawn in chunks so memory stays flat for large k."""
    parts = [model.log_weights(x, min(chunk, k - start), labels, generator) for start in range(0, k, chunk)]
    return torch.logsumexp(torch.cat(parts), dim=0) - math.log(k)


def vae_from_config(config: dict[str, Any], base: Any = None) -> VAE:
    """A fresh VAE from the config's ``model`` block (weights drawn from the fit seed);
    ``base`` is unused (the shared stages' builder signature)."""
    del base
    m = config["model"]
    torch.manual_seed(int(config.get("fit", {}).get("seed", 0)))
    return VAE(list(m["hidden"]), int(m["latent"]), classes=10 if m.get("conditional") else 0,
               activation=m.get("activation", "tanh"), beta=float(m.get("beta", 1.0)))


def vae_step(model: VAE, batch: Any) -> dict[str, torch.Tensor]:
    """One batch for ``core.training.fit``: loss = -(log p(x|z) - beta KL), and the true ELBO
    (beta = 1), rate and distortion in nats per image. Grey training images are binarized
    afresh on every visit (x_i ~ Bernoulli(intensity)); already binary images stay as they are."""
    images, labels = batch[0], batch[1]
    x = torch.bernoulli(images)
    log_px, kl = model.elbo_terms(x, labels if model.classes else None)
    return {"loss": -(log_px - model.beta * kl).mean(), "elbo": (log_px - kl).mean(),
            "rate": kl.mean(), "distortion": -log_px.mean()}


def vae_step_for(config: dict[str, Any]) -> Any:
    """The step the shared stages call (the beta lives on the model)."""
    del config
    return vae_step
