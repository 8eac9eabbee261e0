"""SqueezeNet 1.0 (Iandola et al., 2016) and 1.1 (the authors' repository).

**Fire module.** A squeeze layer of s 1 x 1 filters feeds an expand layer of e1 1 x 1 and
e3 3 x 3 filters whose outputs are concatenated (s < e1 + e3, so the 3 x 3 filters see few
input channels):

    z = ReLU(W_s * x)                                    s channels
    y = [ReLU(W_e1 * z), ReLU(W_e3 * z)]                 e1 + e3 channels
    params = C_in·s + s·e1 + 9·s·e3 (+ biases)           vs 9·C_in·(e1 + e3) for one 3x3 conv

There is no fully connected layer: a 1 x 1 convolution to the classes, ReLU, then a global
average pool gives the logits. 1.1 uses a 3 x 3 stem of 64 filters and pools earlier, for
2.4x less computation at the same accuracy.
"""

from __future__ import annotations

import torch
from torch import nn

# Fire (squeeze, expand1x1, expand3x3) configs, "M" = max pool 3x3/2 (ceil mode)
_FIRES = {
    "1_0": ("M", (16, 64, 64), (16, 64, 64), (32, 128, 128), "M", (32, 128, 128), (48, 192, 192),
            (48, 192, 192), (64, 256, 256), "M", (64, 256, 256)),
    "1_1": ("M", (16, 64, 64), (16, 64, 64), "M", (32, 128, 128), (32, 128, 128), "M", (48, 192, 192),
            (48, 192, 192), (64, 256, 256), (64, 256, 256)),
}
_STEMS = {"1_0": (96, 7), "1_1": (64, 3)}  # (filters, kernel), stride 2, no padding


class Fire(nn.Module):
    """Squeeze 1x1 -> [expand 1x1, expand 3x3] concatenated along channels."""

    def __init__(self, c_in: int, squeeze: int, expand1x1: int, expand3x3: int):
        super().__init__()
        self.squeeze = nn.Conv2d(c_in, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, 1)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.expand1x1(z)), torch.relu(self.expand3x3(z))], 1)


class SqueezeNet(nn.Module):
    """Stem conv -> Fire modules with max pools -> dropout -> 1x1 conv to classes -> ReLU -> pool.

    ``width`` multiplies every Fire module's channels (1.0 = the published network),
    ``stem_stride`` 1 and ``pool_first: false`` keep resolution for 28 x 28 inputs."""

    def __init__(self, version: str = "1_0", num_classes: int = 1000, width: float = 1.0, in_channels: int = 3,
                 stem_stride: int = 2, dropout: float = 0.5, pool_first: bool = True):
        super().__init__()
        if version not in _FIRES:
            raise ValueError(f"model.version: one of {sorted(_FIRES)}, got {version!r}")
        filters, kernel = _STEMS[version]
        c = max(1, int(filters * width))
        layers: list[nn.Module] = [nn.Conv2d(in_channels, c, kernel, stem_stride), nn.ReLU(inplace=True)]
        for i, spec in enumerate(_FIRES[version]):
            if spec == "M":
                if i > 0 or pool_first:
                    layers.append(nn.MaxPool2d(3, 2, ceil_mode=True))
                continue
            squeeze, e1, e3 = (max(1, int(v * width)) for v in spec)
            layers.append(Fire(c, squeeze, e1, e3))
            c = e1 + e3
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Conv2d(c, num_classes, 1), nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d(1))
        for module in self.modules():  # the reference's initialisation: the last conv starts near zero
            if isinstance(module, nn.Conv2d):
                if module is self.classifier[1]:
                    nn.init.normal_(module.weight, 0.0, 0.01)
                else:
                    nn.init.kaiming_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.classifier(self.features(x)), 1)
