"""EfficientNet (Tan & Le, 2019): MBConv blocks with squeeze-and-excitation, compound scaling.

**MBConv** is MobileNet V2's inverted residual with SiLU (swish) activations and a
squeeze-and-excitation gate on the expanded features:

    h = SiLU(BN(W_expand x))                        t·c_in channels (skipped when t = 1)
    h = SiLU(BN(DW_kxk,s(h)))
    g = σ(W_2 SiLU(W_1 mean_hw(h)))                 SE: one gate per channel, W_1: c_in/4 x t·c_in
    y = BN(W_project (g ⊙ h))                       linear bottleneck
    y = x + drop_path(y)   when s = 1, c_in = c_out (stochastic depth: a sample's whole branch
                                                     dropped with prob p, kept ones scaled 1/(1-p))

**Compound scaling.** FLOPs grow as d·w²·r² with depth d, width w and resolution r. Scaling
all three together by one coefficient φ,

    d = α^φ,  w = β^φ,  r = γ^φ     with  α·β²·γ² ≈ 2,  α, β, γ ≥ 1

doubles FLOPs per unit of φ; the B0 grid search found α = 1.2, β = 1.1, γ = 1.15. Here
``width`` scales every stage's channels (rounded to multiples of 8, as torchvision does) and
``depth`` every stage's repeats (rounded up); resolution is the input size (models.py).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from dl_roadmap.image.mobilenet import make_divisible

# (expansion, kernel, stride, input channels, output channels, repeats) of B0's stages (Table 1)
B0_STAGES = ((1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
             (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1))
COMPOUND = {"alpha": 1.2, "beta": 1.1, "gamma": 1.15}  # depth, width, resolution bases of B0's search


def conv_bn_silu(c_in: int, c_out: int, kernel: int = 1, stride: int = 1, groups: int = 1,
                 activation: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(c_out, eps=1e-3)]
    if activation:
        layers.append(nn.SiLU(inplace=True))
    return nn.Sequential(*layers)


class SqueezeExcitation(nn.Module):
    """Channel gates from the global average: g = σ(W_2 SiLU(W_1 mean(h) + b_1) + b_2)."""

    def __init__(self, channels: int, squeezed: int):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeezed, 1)
        self.fc2 = nn.Conv2d(squeezed, channels, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        g = torch.sigmoid(self.fc2(torch.nn.functional.silu(self.fc1(h.mean((2, 3), keepdim=True)))))
        return h * g


def drop_path(y: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Stochastic depth: each sample's residual branch is zeroed with probability p."""
    if not training or p == 0.0:
        return y
    keep = torch.empty(y.shape[0], 1, 1, 1, device=y.device, dtype=y.dtype).bernoulli_(1.0 - p)
    return y * keep / (1.0 - p)


class MBConv(nn.Module):
    """Expand 1x1 -> depthwise kxk -> SE -> project 1x1 [+ drop_path residual]."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expansion: int, drop: float):
        super().__init__()
        hidden = make_divisible(c_in * expansion)
        layers: list[nn.Module] = []
        if hidden != c_in:
            layers.append(conv_bn_silu(c_in, hidden))
        layers += [conv_bn_silu(hidden, hidden, kernel, stride, groups=hidden),
                   SqueezeExcitation(hidden, max(1, c_in // 4)),   # squeeze ratio 1/4 of the block input
                   conv_bn_silu(hidden, c_out, activation=False)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out
        self.drop = drop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + drop_path(y, self.drop, self.training) if self.residual else y


class EfficientNet(nn.Module):
    """Stem conv 3x3/2 -> MBConv stages -> 1x1 conv (4 x last channels) -> pool -> dropout -> FC.

    ``width`` and ``depth`` are the compound-scaling multipliers (B0: 1, 1; B1: 1.0, 1.1...);
    ``stochastic_depth`` is the drop probability of the last block, rising linearly from 0."""

    def __init__(self, num_classes: int = 1000, width: float = 1.0, depth: float = 1.0, in_channels: int = 3,
                 stem_stride: int = 2, dropout: float = 0.2, stochastic_depth: float = 0.2):
        super().__init__()
        channels = lambda c: make_divisible(c * width)  # noqa: E731
        stages = [(t, k, s, channels(ci), channels(co), int(math.ceil(n * depth))) for t, k, s, ci, co, n in B0_STAGES]
        total = sum(stage[-1] for stage in stages)
        layers: list[nn.Module] = [conv_bn_silu(in_channels, stages[0][3], 3, stem_stride)]
        index = 0
        for t, k, s, c_in, c_out, repeats in stages:
            for i in range(repeats):
                layers.append(MBConv(c_in if i == 0 else c_out, c_out, k, s if i == 0 else 1, t,
                                     stochastic_depth * index / total))
                index += 1
        last = 4 * stages[-1][4]
        layers.append(conv_bn_silu(stages[-1][4], last))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(last, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))
