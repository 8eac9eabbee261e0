"""A convolutional (denoising) autoencoder, and the classifier that reuses its encoder.

The autoencoder learns a code without labels: an encoder z = f(x) and a decoder
x_hat = g(z), trained on the pixel-wise binary cross-entropy between the clean image x and
the reconstruction of a corrupted copy, -sum_i [x_i log s(x_hat_i) + (1 - x_i) log(1 - s(x_hat_i))]
(s = sigmoid; ``reconstruction_step``). ``DigitClassifier`` puts a small head on a copy of
the encoder (pretrained, or freshly initialised for the from-scratch baseline).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.image.augment import corrupt, random_affine
from dl_roadmap.image.cnn import conv_block, downsampling_blocks


class ConvEncoder(nn.Module):
    """(N, 1, 28, 28) -> (N, latent_dim). Each stage: a 3x3 conv, then a strided 3x3 conv
    that halves the resolution (28 -> 14 -> 7 -> 4 for depth 3)."""

    def __init__(self, latent_dim: int = 64, channels: tuple[int, ...] = (32, 64), image_size: int = 28):
        super().__init__()
        stages, c_in, size = [], 1, image_size
        self.sizes = [size]  # spatial size before each stage, and after the last one
        for c_out in channels:
            stages += downsampling_blocks(c_in, c_out)
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
            stages += [nn.Upsample(size=(size, size), mode="nearest"), conv_block(c_in, c_out)]
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


def reconstruction_step(
    model: nn.Module, batch: Any, denoising: dict | None = None, augment: dict | None = None
) -> dict[str, torch.Tensor]:
    """Binary cross-entropy between the clean image and the reconstruction of a
    (possibly corrupted) copy: a denoising autoencoder must learn what digits look like.

    ``denoising``: ``corrupt`` arguments (kind, level); ``augment``: ``random_affine``
    arguments for the clean image; both while training only, null = none.
    """
    clean = batch[0]
    if model.training and augment:
        clean = random_affine(clean, **augment)
    noisy = corrupt(clean, **denoising) if model.training and denoising else clean
    logits = model(noisy)
    return {
        "loss": F.binary_cross_entropy_with_logits(logits, clean),
        "mse": F.mse_loss(torch.sigmoid(logits), clean),
    }


def build_classifier(autoencoder: ConvAutoencoder, params: dict[str, Any], pretrained: bool) -> DigitClassifier:
    """A classifier on a copy of the autoencoder's encoder, or on a freshly initialised
    encoder of the same shape (the from-scratch baseline); ``params["model"]`` is the head."""
    encoder = copy.deepcopy(autoencoder.encoder)
    if not pretrained:
        encoder = type(encoder)(encoder.latent_dim, encoder.channels)
    return DigitClassifier(encoder, **params.get("model", {}))


def classifier_from_config(config: dict[str, Any], autoencoder: ConvAutoencoder) -> DigitClassifier:
    """StageTask builder: a classifier on a copy of the pretrained encoder, or, with
    ``pretrained: false``, on a fresh encoder shaped by ``encoder`` (latent_dim, channels;
    default: the autoencoder's shape), as the distillation student uses."""
    if config.get("pretrained", True):
        return build_classifier(autoencoder, config, pretrained=True)
    shape = {"latent_dim": autoencoder.encoder.latent_dim, "channels": autoencoder.encoder.channels,
             **config.get("encoder", {})}
    return DigitClassifier(ConvEncoder(int(shape["latent_dim"]), tuple(shape["channels"])), **config.get("model", {}))
