"""BigGAN's ideas at 28 x 28, class-conditional (Brock et al. 2019; Miyato & Koyama 2018).

- Class-conditional batch norm: normalise without affine, then scale and shift from the class
  (and the latent, BigGAN's "skip-z")::

      CBN(h | y, z) = (1 + gamma(e_y, z)) * (h - mu_B) / sigma_B + beta(e_y, z)

  with e_y a class embedding shared by every block and gamma, beta linear maps.
- Projection discriminator: the class enters the critic as an inner product with the features
  phi(x) (Miyato & Koyama 2018)::

      D(x, y) = psi(phi(x)) + < embed(y), phi(x) >

- Spectral normalisation on every discriminator layer: W / sigma(W), sigma the largest singular
  value estimated by one power iteration per step; we use PyTorch's
  ``torch.nn.utils.parametrizations.spectral_norm`` (the library's, checked in the tests against
  ``torch.linalg.matrix_norm(ord=2)``).
- Hinge loss: L_D = E[relu(1 - D(x, y))] + E[relu(1 + D(G(z, y), y))], L_G = -E[D(G(z, y), y)].
- Truncation: z drawn from N(0, I) with every component resampled until |z_i| <= threshold
  (smaller threshold: higher fidelity, lower diversity).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm


class ConditionalBatchNorm(nn.Module):
    """BatchNorm without its own affine; gain 1 + gamma(c) and bias beta(c) from a condition c."""

    def __init__(self, channels: int, condition_dim: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Linear(condition_dim, channels)
        self.bias = nn.Linear(condition_dim, channels)
        for layer in (self.gain, self.bias):  # start as a plain BatchNorm
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        gain = 1 + self.gain(condition)[:, :, None, None]
        return gain * self.norm(x) + self.bias(condition)[:, :, None, None]


class GeneratorBlock(nn.Module):
    """BigGAN's residual up-block: CBN-ReLU-up-conv-CBN-ReLU-conv, plus up-1x1 shortcut."""

    def __init__(self, channels_in: int, channels_out: int, condition_dim: int):
        super().__init__()
        self.bn1 = ConditionalBatchNorm(channels_in, condition_dim)
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, padding=1)
        self.bn2 = ConditionalBatchNorm(channels_out, condition_dim)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1)
        self.shortcut = nn.Conv2d(channels_in, channels_out, 1)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x, condition)), scale_factor=2)
        h = self.conv2(F.relu(self.bn2(self.conv1(h), condition)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2))


class BigGenerator(nn.Module):
    """z, y -> linear 7 x 7 -> two residual up-blocks (CBN on [e_y, z]) -> BN-ReLU-conv-tanh."""

    def __init__(self, z_dim: int = 64, classes: int = 10, embed_dim: int = 32, channels: int = 64):
        super().__init__()
        self.z_dim, self.classes, self.channels = z_dim, classes, channels
        self.embed = nn.Embedding(classes, embed_dim)  # shared by every block
        condition = embed_dim + z_dim
        self.linear = nn.Linear(z_dim, channels * 49)
        self.blocks = nn.ModuleList([GeneratorBlock(channels, channels, condition),
                                     GeneratorBlock(channels, channels // 2, condition)])
        self.out = nn.Sequential(nn.BatchNorm2d(channels // 2), nn.ReLU(), nn.Conv2d(channels // 2, 1, 3, padding=1))

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        condition = torch.cat([self.embed(labels), z], dim=1)
        h = self.linear(z).view(-1, self.channels, 7, 7)
        for block in self.blocks:
            h = block(h, condition)
        return torch.tanh(self.out(h))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None,
               threshold: float | None = None) -> torch.Tensor:
        """n images (n, 1, 28, 28) in [0, 1] of ``labels`` (random classes when None), z
        truncated at ``threshold`` (None: no truncation)."""
        if labels is None:
            labels = torch.randint(self.classes, (n,), generator=generator)
        z = truncated_normal(n, self.z_dim, threshold, generator)
        return (self(z, labels.long()) + 1) / 2


def truncated_normal(n: int, dim: int, threshold: float | None, generator: torch.Generator) -> torch.Tensor:
    """N(0, I) samples whose components above ``threshold`` in magnitude are drawn again."""
    z = torch.randn(n, dim, generator=generator)
    if threshold is None:
        return z
    if threshold <= 0:
        raise ValueError(f"truncation threshold: must be > 0, got {threshold}")
    outside = z.abs() > threshold
    while outside.any():
        z[outside] = torch.randn(int(outside.sum()), generator=generator)
        outside = z.abs() > threshold
    return z


class ProjectionDiscriminator(nn.Module):
    """Spectrally normalised conv features phi(x) (28 -> 14 -> 7, sum-pooled), then
    D(x, y) = psi(phi(x)) + <embed(y), phi(x)>."""

    def __init__(self, classes: int = 10, channels: int = 64):
        super().__init__()
        self.features = nn.Sequential(
            spectral_norm(nn.Conv2d(1, channels // 2, 3, padding=1)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(channels // 2, channels, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(channels, channels, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),
        )
        self.psi = spectral_norm(nn.Linear(channels, 1))
        self.embed = spectral_norm(nn.Embedding(classes, channels))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        phi = self.features(x).sum(dim=(2, 3))
        return self.psi(phi).squeeze(1) + (self.embed(labels) * phi).sum(1)


def hinge_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def hinge_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]."""
    return -fake_scores.mean()


class TruncatedBigSampler(nn.Module):
    """A BigGenerator sampled at a fixed truncation threshold: what the MLflow model wraps
    (conditional: ``labels`` pick the class of every image)."""

    def __init__(self, generator: BigGenerator, threshold: float | None = None):
        super().__init__()
        self.generator, self.threshold = generator, threshold

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator.sample(n, generator, labels, threshold=self.threshold)
