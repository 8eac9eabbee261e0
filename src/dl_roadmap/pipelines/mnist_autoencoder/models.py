"""A convolutional autoencoder whose encoder is reused by the digit classifier."""

from __future__ import annotations

from torch import nn


def _conv_block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class ConvEncoder(nn.Module):
    """(N, 1, 28, 28) -> (N, latent_dim). Each stage: a 3x3 conv, then a strided 3x3 conv
    that halves the resolution (28 -> 14 -> 7 -> 4 for depth 3)."""

    def __init__(self, latent_dim: int = 64, channels: tuple[int, ...] = (32, 64), image_size: int = 28):
        super().__init__()
        stages, c_in, size = [], 1, image_size
        self.sizes = [size]  # spatial size before each stage, and after the last one
        for c_out in channels:
            stages += [_conv_block(c_in, c_out), _conv_block(c_out, c_out, stride=2)]
            c_in, size = c_out, (size + 1) // 2
            self.sizes.append(size)
        self.features = nn.Sequential(*stages)
        self.channels = tuple(channels)
        self.latent_dim = latent_dim
        self.to_code = nn.Linear(c_in * size * size, latent_dim)

    def forward(self, x):
        return self.to_code(self.features(x).flatten(1))


class ConvDecoder(nn.Module):
    """Mirror of ConvEncoder: code -> feature map -> upsample + conv per stage -> image."""

    def __init__(self, encoder: ConvEncoder):
        super().__init__()
        channels, sizes = list(encoder.channels), encoder.sizes
        self.start = (channels[-1], sizes[-1], sizes[-1])
        self.from_code = nn.Sequential(nn.Linear(encoder.latent_dim, channels[-1] * sizes[-1] ** 2), nn.ReLU())
        stages = []
        outs = channels[::-1][1:] + [channels[0]]
        for c_in, c_out, size in zip(channels[::-1], outs, sizes[-2::-1]):
            stages += [nn.Upsample(size=(size, size), mode="nearest"), _conv_block(c_in, c_out)]
        self.upsample = nn.Sequential(*stages)
        self.to_pixels = nn.Conv2d(channels[0], 1, 3, padding=1)

    def forward(self, code):
        x = self.from_code(code).view(-1, *self.start)
        return self.to_pixels(self.upsample(x))  # logits; sigmoid gives pixels in [0, 1]


class ConvAutoencoder(nn.Module):
    """Encoder + decoder; forward returns reconstruction logits."""

    def __init__(self, latent_dim: int = 64, channels: tuple[int, ...] = (32, 64)):
        super().__init__()
        self.encoder = ConvEncoder(latent_dim, tuple(channels))
        self.decoder = ConvDecoder(self.encoder)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class DigitClassifier(nn.Module):
    """An encoder (pretrained or fresh) with a small head: image -> 10 logits."""

    def __init__(self, encoder: ConvEncoder, hidden: int = 128, dropout: float = 0.3):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Sequential(
            nn.ReLU(), nn.Dropout(dropout), nn.Linear(encoder.latent_dim, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, 10),
        )

    def forward(self, x):
        return self.head(self.encoder(x))
