"""A video transformer with divided space-time attention (TimeSformer, Bertasius et al. 2021),
and the per-frame CNN it is measured against.

A clip (T frames, each cut into N patches, as the ViT does) becomes tokens z (T', N, D):

    z_0[t, n] = x_p^{t,n} E + E_space[n] + E_time[t]      separable position embeddings

where x_p^{t,n} is patch n of frame t, or with ``tubelet`` = k > 1 (ViViT's tubelet
embedding, Arnab et al. 2021) the same patch in k consecutive frames, so T' = T / k and one
linear map E can already see a short displacement.
    z'  = z  + MSA_time(LN(z))     each patch position attends over the T frames (T x T maps)
    z'' = z' + MSA_space(LN(z'))   each frame's patches attend to one another (N x N maps)
    z   = z'' + MLP(LN(z''))
    y   = W_head mean_{t,n} LN(z_L[t, n])                  mean of all tokens -> logits

Joint space-time attention would compare all TN tokens with one another (cost ~ (TN)^2);
divided attention costs ~ TN(T + N). Here the mean of the tokens replaces the paper's class
token, a simplification that keeps every attention a plain self-attention.

The per-frame CNN scores every frame alone and averages the frame scores: it sees the same
pixels but not their order, so it cannot tell a clip from the clip played backwards.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dl_roadmap.image.cnn import SmallCNN
from dl_roadmap.image.vit import MultiHeadSelfAttention, patchify


class DividedBlock(nn.Module):
    """Time attention, then space attention, then the MLP, each pre-norm with a residual."""

    def __init__(self, dim: int, heads: int, mlp_dim: int):
        super().__init__()
        self.norm_time, self.norm_space, self.norm_mlp = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.time = MultiHeadSelfAttention(dim, heads)
        self.space = MultiHeadSelfAttention(dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Linear(mlp_dim, dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b, t, n, d = z.shape
        # Time: the sequences are the T tokens at one patch position -> (B N, T, D).
        along_time = self.norm_time(z).transpose(1, 2).reshape(b * n, t, d)
        z = z + self.time(along_time).view(b, n, t, d).transpose(1, 2)
        # Space: the sequences are the N patches of one frame -> (B T, N, D).
        z = z + self.space(self.norm_space(z).reshape(b * t, n, d)).view(b, t, n, d)
        return z + self.mlp(self.norm_mlp(z))


class VideoTransformer(nn.Module):
    """Clips (B, T, H, W) in [0, 1] -> logits (B, classes)."""

    def __init__(self, frames: int = 10, image_size: int = 64, patch_size: int = 16, dim: int = 48, depth: int = 3,
                 heads: int = 4, mlp_dim: int = 96, tubelet: int = 1, classes: int = 2, seed: int | None = None):
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"model.patch_size {patch_size} must divide the frame size {image_size}")
        if frames % tubelet:
            raise ValueError(f"model.tubelet {tubelet} must divide the number of frames {frames}")
        self.patch_size, self.tubelet, patches = patch_size, tubelet, (image_size // patch_size) ** 2
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(int(seed))
            self.embed = nn.Linear(tubelet * patch_size ** 2, dim)
            self.space_pos = nn.Parameter(torch.randn(1, 1, patches, dim) * 0.02)
            self.time_pos = nn.Parameter(torch.randn(1, frames // tubelet, 1, dim) * 0.02)
            self.blocks = nn.ModuleList(DividedBlock(dim, heads, mlp_dim) for _ in range(depth))
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        b, t, h, w = clips.shape
        steps = t // self.tubelet
        if steps * self.tubelet != t or steps != self.time_pos.shape[1]:
            raise ValueError(f"the model was built for {self.time_pos.shape[1] * self.tubelet} frames, got clips of {t}")
        # A tubelet's k frames are the channels of its patches: (B T', N, k P^2).
        patches = patchify(clips.reshape(b * steps, self.tubelet, h, w), self.patch_size)
        z = self.embed(patches).view(b, steps, -1, self.embed.out_features) + self.space_pos + self.time_pos
        for block in self.blocks:
            z = block(z)
        # Normalise each token, then average: pooled first, the few tokens that hold a digit
        # would be drowned by the many background ones.
        return self.head(self.norm(z).mean(dim=(1, 2)))


class FrameAveragingCNN(nn.Module):
    """A CNN on each frame alone; the clip's logits are the mean of its frames' logits.

    A ``stem`` x ``stem`` convolution with stride ``stem`` first shrinks the frame (64 -> 16
    at stem 4, as a patch embedding does), then a SmallCNN of the image library classifies it.
    """

    def __init__(self, channels: list[int] | tuple[int, ...] = (16, 32), hidden: int = 64, stem: int = 4,
                 image_size: int = 64, classes: int = 2, seed: int | None = None):
        super().__init__()
        if image_size % stem:
            raise ValueError(f"cnn.stem {stem} must divide the frame size {image_size}")
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(int(seed))
            self.stem = nn.Sequential(nn.Conv2d(1, channels[0], stem, stride=stem), nn.ReLU())
        self.frame = SmallCNN(channels=channels, hidden=hidden, in_channels=channels[0], image_size=image_size // stem,
                              classes=classes, seed=seed)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        b, t, h, w = clips.shape
        return self.frame(self.stem(clips.reshape(b * t, 1, h, w) - 0.5)).view(b, t, -1).mean(1)


def build(kind: str, config: dict[str, Any], frames: int, image_size: int, seed: int) -> nn.Module:
    """The ``transformer`` or ``cnn`` of the config, sized for the clips."""
    if kind == "transformer":
        return VideoTransformer(frames=frames, image_size=image_size, **config, seed=seed)
    if kind == "cnn":
        return FrameAveragingCNN(image_size=image_size, **config, seed=seed)
    raise ValueError(f"unknown video model {kind!r}: transformer or cnn")
