"""Discrete normalizing flows: RealNVP (Dinh et al., 2017) and Glow (Kingma & Dhariwal, 2018).

A flow is an invertible map z = f(x) built from layers whose Jacobian determinant is cheap.
The change of variables gives the exact log-likelihood::

    log p(x) = log N(f(x); 0, I) + sum_layers log |det df_l/dh_{l-1}|

Every layer here has ``forward(h) -> (h', logdet)`` (logdet per sample, shape (N,)) and
``inverse(h') -> h``; the tests check each logdet against autograd's Jacobian.

Layers:
- ``AffineCoupling``: keep the masked part x_b = b * x, transform the rest,
  y = x_b + (1 - b) * (x * exp(s(x_b)) + t(x_b)); log|det| = sum (1 - b) * s.
  RealNVP's masks: ``checkerboard`` (b alternates per pixel) and ``channel`` (first half of
  the channels); ``parity`` swaps which half is kept. Glow uses the channel mask and the
  scale sigmoid(h + 2) instead of exp(tanh-bounded s).
- ``ActNorm``: y = (x - mu_c) * exp(-log sigma_c) per channel, mu and sigma set from the first
  batch (data-dependent init: unit variance outputs), then learned; log|det| = -H W sum log sigma_c.
- ``Invertible1x1Conv``: y = W x at every pixel, W (C, C) invertible; log|det| = H W log|det W|.
  With ``lu=True`` W = P L (U + diag(sign(s) exp(log|s|))) (P fixed, L unit lower, U strictly upper),
  so log|det W| = sum log|s| costs O(C); ``lu=False`` keeps a plain W and uses slogdet.
- ``Squeeze``: (C, H, W) -> (4C, H/2, W/2), a permutation (logdet 0).
- ``FactorOut``: multi-scale architecture: half the channels leave the flow as latent
  variables (N(0, I)); the other half go on through the next scale.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

LOG_2PI = math.log(2 * math.pi)
SATURATED_LOGIT = 30.0  # sigmoid(30) = 1 - 1e-13: a logit past it is a white (or black) pixel


def _sum_per_sample(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1).sum(1)


class CouplingNet(nn.Module):
    """s and t of a coupling layer from its kept half: conv3x3 - ReLU - conv1x1 - ReLU - conv3x3.
    The last conv starts at zero, so every coupling starts as the identity (Glow's init)."""

    def __init__(self, channels_in: int, channels_out: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels_in, hidden, 3, padding=1), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
            nn.Conv2d(hidden, 2 * channels_out, 3, padding=1),
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw_s, t = self.net(x).chunk(2, dim=1)
        return raw_s, t


def checkerboard_mask(height: int, width: int, parity: int) -> torch.Tensor:
    """(1, 1, H, W) of 0/1, b[i, j] = (i + j + parity) mod 2."""
    grid = torch.arange(height)[:, None] + torch.arange(width)[None, :]
    return ((grid + parity) % 2).float().view(1, 1, height, width)


class AffineCoupling(nn.Module):
    """RealNVP / Glow affine coupling (see the module docstring).

    mask: ``checkerboard`` (any channel count) or ``channel`` (splits the channels in two);
    scale: ``tanh`` (RealNVP: s = a * tanh(raw), a learned per channel, keeps exp(s) bounded)
    or ``sigmoid`` (Glow: exp(s) = sigmoid(raw + 2)). ``net`` replaces the convolutional s, t
    network (the 2-D toy flows use an MLP).
    """

    def __init__(self, channels: int, height: int, width: int, hidden: int, mask: str = "channel",
                 parity: int = 0, scale: str = "tanh", net: nn.Module | None = None):
        super().__init__()
        if mask not in ("checkerboard", "channel"):
            raise ValueError(f"coupling mask: 'checkerboard' or 'channel', got {mask!r}")
        if scale not in ("tanh", "sigmoid"):
            raise ValueError(f"coupling scale: 'tanh' or 'sigmoid', got {scale!r}")
        if mask == "channel" and channels < 2:
            raise ValueError("a channel mask needs at least 2 channels (squeeze first)")
        self.mask_kind, self.parity, self.scale_kind = mask, parity, scale
        if mask == "checkerboard":
            self.register_buffer("mask", checkerboard_mask(height, width, parity))
            changed = channels
            self.net = net or CouplingNet(channels, channels, hidden)
        else:
            self.kept = channels // 2 if parity == 0 else channels - channels // 2
            changed = channels - self.kept
            self.net = net or CouplingNet(self.kept, changed, hidden)
        # RealNVP bounds s = a * tanh(raw) with a learned a per changed channel
        self.scale_factor = nn.Parameter(torch.ones(1, changed, 1, 1)) if scale == "tanh" else None

    def _log_scale(self, raw_s: torch.Tensor) -> torch.Tensor:
        if self.scale_kind == "sigmoid":
            return nn.functional.logsigmoid(raw_s + 2.0)
        return self.scale_factor * torch.tanh(raw_s)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(kept, changed): parity 0 keeps the first channels, parity 1 the last ones."""
        if self.parity == 0:
            return x[:, : self.kept], x[:, self.kept:]
        return x[:, x.shape[1] - self.kept:], x[:, : x.shape[1] - self.kept]

    def _join(self, kept: torch.Tensor, changed: torch.Tensor) -> torch.Tensor:
        return torch.cat([kept, changed] if self.parity == 0 else [changed, kept], dim=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.mask_kind == "checkerboard":
            b = self.mask
            raw_s, t = self.net(x * b)
            log_s = self._log_scale(raw_s) * (1 - b)
            y = x * b + (1 - b) * (x * log_s.exp() + t)
            return y, _sum_per_sample(log_s)
        kept, other = self._split(x)
        raw_s, t = self.net(kept)
        log_s = self._log_scale(raw_s)
        return self._join(kept, other * log_s.exp() + t), _sum_per_sample(log_s)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        if self.mask_kind == "checkerboard":
            b = self.mask
            raw_s, t = self.net(y * b)  # y * b = x * b: the kept half passes unchanged
            log_s = self._log_scale(raw_s) * (1 - b)
            return y * b + (1 - b) * (y - t) * (-log_s).exp()
        kept, other = self._split(y)
        raw_s, t = self.net(kept)
        log_s = self._log_scale(raw_s)
        return self._join(kept, (other - t) * (-log_s).exp())


class ActNorm(nn.Module):
    """Per-channel affine y = (x - mu) / sigma, mu and sigma from the first batch it sees."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))  # log(1 / sigma)
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        """Data-dependent init: outputs of this batch get zero mean and unit variance per channel."""
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        std = x.std(dim=(0, 2, 3), keepdim=True)
        self.bias.copy_(-mean)
        self.log_scale.copy_(-torch.log(std + 1e-6))
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not bool(self.initialized):
            self.initialize(x)
        height, width = x.shape[2:]
        y = (x + self.bias) * self.log_scale.exp()
        return y, (height * width * self.log_scale.sum()).expand(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * (-self.log_scale).exp() - self.bias


class Invertible1x1Conv(nn.Module):
    """Glow's learned channel permutation: a 1x1 convolution with an invertible C x C weight,
    started at a random rotation; LU-parametrised (``lu=True``) or plain with slogdet."""

    def __init__(self, channels: int, lu: bool = True, seed: int | None = None):
        super().__init__()
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        q, _ = torch.linalg.qr(torch.randn(channels, channels, generator=generator))
        self.lu = lu
        if not lu:
            self.weight = nn.Parameter(q)
            return
        p, lower, upper = torch.linalg.lu(q)
        s = torch.diagonal(upper)
        self.register_buffer("p", p)
        self.register_buffer("sign_s", torch.sign(s))
        self.register_buffer("lower_mask", torch.tril(torch.ones(channels, channels), -1))
        self.register_buffer("eye", torch.eye(channels))
        self.lower = nn.Parameter(lower)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(torch.log(torch.abs(s)))

    def matrix(self) -> torch.Tensor:
        """W = P L (U + diag(sign(s) exp(log|s|))) with L unit lower- and U strictly upper-triangular."""
        if not self.lu:
            return self.weight
        lower = self.lower * self.lower_mask + self.eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign_s * self.log_s.exp())
        return self.p @ lower @ upper

    def log_abs_det(self) -> torch.Tensor:
        return self.log_s.sum() if self.lu else torch.linalg.slogdet(self.weight)[1]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        height, width = x.shape[2:]
        y = torch.einsum("oc,nchw->nohw", self.matrix(), x)
        return y, (height * width * self.log_abs_det()).expand(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return torch.einsum("oc,nchw->nohw", torch.linalg.inv(self.matrix()), y)


class Squeeze(nn.Module):
    """(C, H, W) -> (4C, H/2, W/2): each 2x2 block of pixels becomes 4 channels."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, c, h, w = x.shape
        y = x.view(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, h // 2, w // 2)
        return y, x.new_zeros(n)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        n, c4, h, w = y.shape
        c = c4 // 4
        return y.view(n, c, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c, 2 * h, 2 * w)


class FactorOut(nn.Module):
    """Multi-scale marker: the first half of the channels leaves the flow here (as z)."""


class Flow(nn.Module):
    """A sequence of layers and ``FactorOut`` markers on images of ``shape`` (C, H, W).

    ``forward(x) -> (z, logdet)``: z is every factored-out piece and the final output,
    flattened and concatenated (N, C*H*W); ``inverse(z) -> x``; ``log_prob(x)`` under N(0, I).
    """

    def __init__(self, layers: list[nn.Module], shape: tuple[int, int, int]):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.shape = tuple(shape)
        self.pieces = self._piece_shapes()

    def _piece_shapes(self) -> list[tuple[int, int, int]]:
        c, h, w = self.shape
        pieces = []
        for layer in self.layers:
            if isinstance(layer, Squeeze):
                if h % 2 or w % 2:
                    raise ValueError(f"flow: a Squeeze needs even height and width, got {h}x{w}")
                c, h, w = 4 * c, h // 2, w // 2
            elif isinstance(layer, FactorOut):
                pieces.append((c // 2, h, w))
                c = c - c // 2
        return pieces + [(c, h, w)]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, logdet = [], x.new_zeros(x.shape[0])
        for layer in self.layers:
            if isinstance(layer, FactorOut):
                half = x.shape[1] // 2
                out.append(x[:, :half].flatten(1))
                x = x[:, half:]
            else:
                x, ld = layer(x)
                logdet = logdet + ld
        out.append(x.flatten(1))
        return torch.cat(out, dim=1), logdet

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        sizes = [int(np.prod(p)) for p in self.pieces]
        parts = list(torch.split(z, sizes, dim=1))
        x = parts.pop().view(-1, *self.pieces[-1])
        for layer in reversed(self.layers):
            if isinstance(layer, FactorOut):
                k = len(parts) - 1
                x = torch.cat([parts.pop().view(-1, *self.pieces[k]), x], dim=1)
            else:
                x = layer.inverse(x)
        return x

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) = log N(f(x); 0, I) + log|det df/dx| (nats per sample)."""
        z, logdet = self(x)
        return -0.5 * (z.pow(2) + LOG_2PI).sum(1) + logdet


def realnvp(shape: tuple[int, int, int], hidden: int, scales: int = 2, couplings: int = 3) -> Flow:
    """RealNVP's multi-scale architecture: per scale, ``couplings`` checkerboard couplings,
    squeeze, ``couplings`` channel couplings, factor out half; the last scale ends with
    ``couplings + 1`` checkerboard couplings. Masks alternate parity so every pixel changes."""
    c, h, w = shape
    layers: list[nn.Module] = []
    for scale in range(scales):
        last = scale == scales - 1
        for i in range(couplings + (1 if last else 0)):
            layers.append(AffineCoupling(c, h, w, hidden, "checkerboard", parity=i % 2))
        if last:
            break
        layers.append(Squeeze())
        c, h, w = 4 * c, h // 2, w // 2
        for i in range(couplings):
            layers.append(AffineCoupling(c, h, w, hidden, "channel", parity=i % 2))
        layers.append(FactorOut())
        c = c - c // 2
    return Flow(layers, shape)


def glow(shape: tuple[int, int, int], hidden: int, levels: int = 2, steps: int = 4, lu: bool = True,
         seed: int = 0) -> Flow:
    """Glow: per level, squeeze then ``steps`` x (actnorm, invertible 1x1 conv, affine coupling
    with a channel mask and sigmoid scale), then factor out half (not after the last level)."""
    c, h, w = shape
    layers: list[nn.Module] = []
    for level in range(levels):
        layers.append(Squeeze())
        c, h, w = 4 * c, h // 2, w // 2
        for step in range(steps):
            layers += [ActNorm(c), Invertible1x1Conv(c, lu=lu, seed=seed + 100 * level + step),
                       AffineCoupling(c, h, w, hidden, "channel", parity=0, scale="sigmoid")]
        if level < levels - 1:
            layers.append(FactorOut())
            c = c - c // 2
    return Flow(layers, shape)


class LogitTransform(nn.Module):
    """Pixels y in [0, 1] -> logit(alpha + (1 - 2 alpha) y), RealNVP's pre-processing.

    log|dy'/dy| = sum log(1 - 2 alpha) - log s - log(1 - s), s = alpha + (1 - 2 alpha) y:
    counted in the likelihood, so bits per dimension are of the pixels, not of the logits.
    """

    def __init__(self, alpha: float = 0.05):
        super().__init__()
        if not 0 < alpha < 0.5:
            raise ValueError(f"logit alpha: must be in (0, 0.5), got {alpha}")
        self.alpha = alpha

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.alpha + (1 - 2 * self.alpha) * y
        logdet = math.log(1 - 2 * self.alpha) - torch.log(s) - torch.log1p(-s)
        return torch.log(s) - torch.log1p(-s), _sum_per_sample(logdet)

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        return (torch.sigmoid(x) - self.alpha) / (1 - 2 * self.alpha)


def dequantize(pixels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniform dequantization: 8-bit pixels k in {0..255} -> (k + u) / 256, u ~ U[0, 1).
    A continuous density on the result lower-bounds the discrete likelihood of k
    (Theis et al., 2016)."""
    noise = torch.rand(pixels.shape, generator=generator, dtype=torch.float32)
    return (pixels.float() + noise) / 256.0


class ImageFlow(nn.Module):
    """Logit pre-processing + a flow, scored in the units of 8-bit pixels.

    For dequantized pixels y = (k + u) / 256 the discrete log-likelihood bound is
    log P(k) >= log p(y) - D log 256, and bits per dimension = -log P(k) / (D ln 2).
    """

    def __init__(self, flow: Flow, alpha: float = 0.05):
        super().__init__()
        self.logit = LogitTransform(alpha)
        self.flow = flow
        self.dims = int(np.prod(flow.shape))

    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        """Continuous log-density of y in [0, 1]^D (nats per image)."""
        x, logdet_logit = self.logit(y)
        return self.flow.log_prob(x) + logdet_logit

    def nll_nats(self, y: torch.Tensor) -> torch.Tensor:
        """-log P(8-bit image) in nats per image (the dequantization bound)."""
        return -(self.log_prob(y) - self.dims * math.log(256.0))

    def bits_per_dim(self, y: torch.Tensor) -> torch.Tensor:
        return self.nll_nats(y) / (self.dims * math.log(2.0))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None,
               temperature: float = 1.0) -> torch.Tensor:
        """n images (n, C, H, W) in [0, 1]: z ~ N(0, T^2 I) pulled back through the flow
        (``temperature`` T < 1 is Glow's reduced-temperature sampling)."""
        del labels  # unconditional
        z = torch.randn(n, self.dims, generator=generator) * temperature
        x = self.flow.inverse(z.to(next(self.parameters()).device)).cpu()
        # A short-trained flow's inverse can overflow on z far in the tails (a coupling
        # divides by a scale near 0): such logits saturate to black/white pixels.
        x = torch.nan_to_num(x, nan=0.0, posinf=SATURATED_LOGIT, neginf=-SATURATED_LOGIT)
        return self.logit.inverse(x.clamp(-SATURATED_LOGIT, SATURATED_LOGIT)).clamp(0.0, 1.0)

    @torch.no_grad()
    def overflow_share(self, n: int, generator: torch.Generator, temperature: float = 1.0) -> float:
        """The share of n samples whose inverse has a NaN or infinite logit (saturated by ``sample``)."""
        z = torch.randn(n, self.dims, generator=generator) * temperature
        x = self.flow.inverse(z.to(next(self.parameters()).device))
        return float((~torch.isfinite(x.flatten(1))).any(1).float().mean())


class TemperedSampler(nn.Module):
    """An ImageFlow sampled at a fixed temperature: what the MLflow model wraps."""

    def __init__(self, model: ImageFlow, temperature: float = 1.0):
        super().__init__()
        self.model, self.temperature = model, float(temperature)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.sample(n, generator, labels, temperature=self.temperature)
