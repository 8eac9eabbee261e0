"""StyleGAN's ideas at 28 x 28 (Karras et al. 2019, StyleGAN; 2020, StyleGAN2).

- Mapping network: z ~ N(0, I) -> pixel norm -> MLP -> w, an intermediate latent that need not
  follow a fixed distribution (disentangles the factors of variation).
- Style modulation with weight demodulation (StyleGAN2, eq. 1 and 3): each synthesis conv's
  weight w_ijk (output j, input i, tap k) is scaled by the style s_i = A(w)_i of its input channel
  and renormalised per output channel::

      w'_ijk  = s_i * w_ijk
      w''_ijk = w'_ijk / sqrt( sum_{i,k} w'_ijk^2 + eps )

  so every output feature map has unit expected variance whatever the style (it replaces AdaIN).
- Per-layer noise: B * noise added after each conv (noise (N, 1, H, W) ~ N(0, 1), B learned per
  channel, starting at 0): stochastic detail (hair, texture) that the style does not decide.
- Style mixing: two latents w_a, w_b; layers before the crossover take w_a, after it w_b
  (trained with mixing probability p, so neighbouring layers' styles do not depend on each other).
- Truncation: w' = w_avg + psi (w - w_avg), w_avg a running mean of w; psi < 1 trades
  diversity for fidelity.

Synthesis: a learned constant 7 x 7 -> [modconv, noise, lrelu] x 2 -> up x2 -> x2 -> up x2 -> x2
-> toRGB (a modulated 1 x 1 conv, not demodulated) -> tanh, images in [-1, 1].
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """x / sqrt(mean(x^2) + eps) per sample: z on the sphere of radius sqrt(dim)."""
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + eps)


class MappingNetwork(nn.Module):
    """z -> w: pixel norm, then ``layers`` linear layers with leaky ReLU."""

    def __init__(self, z_dim: int, w_dim: int, layers: int):
        super().__init__()
        blocks: list[nn.Module] = []
        for i in range(layers):
            blocks += [nn.Linear(z_dim if i == 0 else w_dim, w_dim), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*blocks)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(pixel_norm(z))


def demodulate(weight: torch.Tensor, styles: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Per-sample weights (N, out, in, k, k): w'' = s_i w_ijk / sqrt(sum_{i,k} (s_i w_ijk)^2 + eps)."""
    modulated = weight.unsqueeze(0) * styles[:, None, :, None, None]
    return modulated * torch.rsqrt(modulated.pow(2).sum(dim=(2, 3, 4), keepdim=True) + eps)


class ModulatedConv2d(nn.Module):
    """A conv whose weights are modulated by the style s = A(w) (an affine map, bias 1 so
    s starts near 1) and, with ``demod``, demodulated; run as one grouped convolution."""

    def __init__(self, channels_in: int, channels_out: int, kernel: int, w_dim: int, demod: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(channels_out, channels_in, kernel, kernel) / math.sqrt(channels_in * kernel**2))
        self.affine = nn.Linear(w_dim, channels_in)
        nn.init.ones_(self.affine.bias)
        self.demod, self.padding = demod, kernel // 2

    def weights_for(self, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)
        if self.demod:
            return demodulate(self.weight, styles)
        return self.weight.unsqueeze(0) * styles[:, None, :, None, None]

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        n, c, h, width = x.shape
        weights = self.weights_for(w)  # (N, out, in, k, k)
        out = F.conv2d(x.reshape(1, n * c, h, width), weights.reshape(-1, c, *weights.shape[3:]),
                       padding=self.padding, groups=n)
        return out.view(n, -1, h, width)


class NoiseInjection(nn.Module):
    """x + B * noise, B learned per channel (starting at 0), one noise map per sample."""

    def __init__(self, channels: int):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        if noise is None:
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], generator=generator, device=x.device)
        return x + self.strength * noise


class StyleLayer(nn.Module):
    """modconv 3x3 -> noise -> bias -> leaky ReLU."""

    def __init__(self, channels_in: int, channels_out: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(channels_in, channels_out, 3, w_dim)
        self.noise = NoiseInjection(channels_out)
        self.bias = nn.Parameter(torch.zeros(1, channels_out, 1, 1))

    def forward(self, x: torch.Tensor, w: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return F.leaky_relu(self.noise(self.conv(x, w), generator=generator) + self.bias, 0.2)


class StyleGenerator(nn.Module):
    """Mapping network + synthesis network; ``forward(z)`` draws images in [-1, 1]."""

    def __init__(self, z_dim: int = 64, w_dim: int = 64, mapping_layers: int = 4, channels: int = 64,
                 w_avg_beta: float = 0.995):
        super().__init__()
        self.z_dim, self.w_avg_beta = z_dim, w_avg_beta
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers)
        self.constant = nn.Parameter(torch.randn(1, channels, 7, 7))
        half = channels // 2
        # (channels in, channels out, upsample before): 7x7, 7x7, 14x14, 14x14, 28x28, 28x28
        plan = [(channels, channels, False), (channels, channels, False), (channels, channels, True),
                (channels, half, False), (half, half, True), (half, half, False)]
        self.layers = nn.ModuleList([StyleLayer(cin, cout, w_dim) for cin, cout, _ in plan])
        self.upsample = [up for _, _, up in plan]
        self.to_image = ModulatedConv2d(half, 1, 1, w_dim, demod=False)
        self.register_buffer("w_avg", torch.zeros(w_dim))

    @property
    def num_styles(self) -> int:
        """One w per synthesis layer plus one for toRGB."""
        return len(self.layers) + 1

    def styles(self, z: torch.Tensor, psi: float = 1.0, track: bool = False) -> torch.Tensor:
        """z -> w, truncated towards w_avg by psi; ``track`` updates w_avg (training)."""
        w = self.mapping(z)
        if track:
            with torch.no_grad():
                self.w_avg.lerp_(w.mean(0), 1 - self.w_avg_beta)
        return self.w_avg + psi * (w - self.w_avg) if psi != 1.0 else w

    def synthesis(self, ws: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """ws (N, num_styles, w_dim): one style per layer -> images (N, 1, 28, 28) in [-1, 1]."""
        x = self.constant.expand(ws.shape[0], -1, -1, -1)
        for i, (layer, up) in enumerate(zip(self.layers, self.upsample)):
            if up:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = layer(x, ws[:, i], generator)
        return torch.tanh(self.to_image(x, ws[:, -1]))

    def forward(self, z: torch.Tensor, psi: float = 1.0, mix_z: torch.Tensor | None = None,
                crossover: int | None = None, track: bool = False,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Images from z; with ``mix_z`` layers from ``crossover`` on take mix_z's style."""
        w = self.styles(z, psi, track)
        ws = w.unsqueeze(1).repeat(1, self.num_styles, 1)
        if mix_z is not None:
            ws[:, crossover:] = self.styles(mix_z, psi, track).unsqueeze(1)
        return self.synthesis(ws, generator)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None,
               psi: float = 1.0) -> torch.Tensor:
        """n images (n, 1, 28, 28) in [0, 1] at truncation psi (unconditional: labels ignored)."""
        del labels
        z = torch.randn(n, self.z_dim, generator=generator)
        return (self(z, psi=psi, generator=generator) + 1) / 2


class StyleDiscriminator(nn.Module):
    """A plain convolutional critic 28 -> 14 -> 7 -> score (StyleGAN's loss is the
    non-saturating logistic loss with R1; the architecture is not the idea shown here)."""

    def __init__(self, channels: int = 64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, channels // 2, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(channels // 2, channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(channels, channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(channels * 49, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


class TruncatedStyleSampler(nn.Module):
    """A StyleGenerator sampled at a fixed psi: what the MLflow model wraps."""

    def __init__(self, generator: StyleGenerator, psi: float = 1.0):
        super().__init__()
        self.generator, self.psi = generator, float(psi)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator.sample(n, generator, labels, psi=self.psi)
