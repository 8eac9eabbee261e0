"""The Vision Transformer (Dosovitskiy et al. 2021), written from its equations.

An image x (C, H, W) is cut into N = HW / P^2 patches of P x P pixels, each flattened to
x_p^i (P^2 C values). With E (P^2 C, D) the patch embedding, x_class a learned class token
and E_pos (N + 1, D) learned position embeddings (the paper's eq. 1-4):

    z_0  = [x_class; x_p^1 E; ...; x_p^N E] + E_pos
    z'_l = MSA(LN(z_{l-1})) + z_{l-1}                   l = 1..L   (pre-norm)
    z_l  = MLP(LN(z'_l)) + z'_l                         MLP: Linear -> GELU -> Linear
    y    = LN(z_L^0) W_head                             logits from the class token

Multi-head self-attention (Vaswani et al. 2017) on a sequence z (T, D), h heads of d = D / h:

    [Q, K, V] = z W_qkv + b_qkv                          W_qkv: (D, 3D), one block per Q, K, V
    A_j       = softmax(Q_j K_j^T / sqrt(d))             (T, T) attention of head j (rows sum to 1)
    head_j    = A_j V_j
    MSA(z)    = [head_1; ...; head_h] W_o + b_o

The weights are laid out as torch.nn.MultiheadAttention's (in_proj = W_qkv^T, out_proj = W_o^T),
so a test copies them across and checks both give the same outputs and attention maps.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn


class MultiHeadSelfAttention(nn.Module):
    """MSA(z) for z (B, T, D); keeps the last attention maps A (B, h, T, T) in ``attention``
    when ``keep_attention`` is set (for attention maps and rollout)."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0):
        super().__init__()
        if dim % heads:
            raise ValueError(f"model.dim ({dim}) must be a multiple of model.heads ({heads})")
        self.heads, self.head_dim = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)  # rows: W_q, W_k, W_v stacked, as in_proj_weight
        self.out = nn.Linear(dim, dim)  # W_o, as out_proj
        self.dropout = nn.Dropout(dropout)
        self.keep_attention = False
        self.attention: torch.Tensor | None = None

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b, t, dim = z.shape
        # (B, T, 3D) -> 3 x (B, h, T, d): split into Q, K, V, then into heads.
        q, k, v = self.qkv(z).view(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # Q K^T / sqrt(d): (B, h, T, T)
        attention = scores.softmax(dim=-1)
        if self.keep_attention:
            self.attention = attention.detach()
        heads = self.dropout(attention) @ v  # A V: (B, h, T, d)
        return self.out(heads.transpose(1, 2).reshape(b, t, dim))  # concat heads, then W_o


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: z' = z + MSA(LN(z)); z'' = z' + MLP(LN(z'))."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, dropout: float = 0.0):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = MultiHeadSelfAttention(dim, heads, dropout)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(mlp_dim, dim), nn.Dropout(dropout))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z + self.attn(self.norm1(z))
        return z + self.mlp(self.norm2(z))


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, N, P^2 C): non-overlapping P x P patches, row by row."""
    b, c, h, w = images.shape
    if h % patch or w % patch:
        raise ValueError(f"model.patch_size {patch} must divide the image size {h}x{w}")
    x = images.unfold(2, patch, patch).unfold(3, patch, patch)  # (B, C, H/P, W/P, P, P)
    return x.permute(0, 2, 3, 1, 4, 5).reshape(b, (h // patch) * (w // patch), c * patch * patch)


class VisionTransformer(nn.Module):
    """Images (B, C, H, W) in [0, 1] -> class logits (B, classes); ``image_size`` is S (square)
    or (H, W). With ``classes`` = an embedding width, the head is a projection (a CLIP encoder)."""

    def __init__(self, image_size: int | tuple[int, int] | list[int] = 28, patch_size: int = 7, in_channels: int = 1,
                 dim: int = 64, depth: int = 4, heads: int = 4, mlp_dim: int = 128, dropout: float = 0.0,
                 classes: int = 10, seed: int | None = None):
        super().__init__()
        height, width = (image_size, image_size) if isinstance(image_size, int) else map(int, image_size)
        self.patch_size = int(patch_size)
        if height % self.patch_size or width % self.patch_size:
            raise ValueError(f"model.patch_size {patch_size} must divide model.image_size {image_size}")
        self.grid_shape = (height // self.patch_size, width // self.patch_size)
        self.grid = self.grid_shape[0]  # rows of patches (= columns for a square image)
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(int(seed))
            self.embed = nn.Linear(in_channels * self.patch_size ** 2, dim)  # E
            self.cls = nn.Parameter(torch.zeros(1, 1, dim))  # x_class
            patches = self.grid_shape[0] * self.grid_shape[1]
            self.pos = nn.Parameter(torch.randn(1, patches + 1, dim) * 0.02)  # E_pos
            self.blocks = nn.ModuleList(EncoderBlock(dim, heads, mlp_dim, dropout) for _ in range(depth))
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        # Centre the pixels (a fixed shift, so inputs stay images in [0, 1] for every user).
        tokens = self.embed(patchify(images - 0.5, self.patch_size))  # x_p^i E: (B, N, D)
        z = torch.cat([self.cls.expand(len(tokens), -1, -1), tokens], dim=1) + self.pos
        for block in self.blocks:
            z = block(z)
        return self.head(self.norm(z[:, 0]))  # the class token's final state

    @torch.no_grad()
    def attention_maps(self, images: torch.Tensor) -> torch.Tensor:
        """Every layer's attention, (L, B, h, T, T) with T = N + 1 (token 0 = class token)."""
        was_training = self.training
        self.eval()
        for block in self.blocks:
            block.attn.keep_attention = True
        try:
            self(images)
            return torch.stack([block.attn.attention for block in self.blocks])
        finally:
            for block in self.blocks:
                block.attn.keep_attention, block.attn.attention = False, None
            self.train(was_training)


def attention_rollout(attentions: torch.Tensor, residual: float = 0.5) -> torch.Tensor:
    """Attention rollout (Abnar & Zuidema 2020): how much each input token flows to each
    output token through all layers, the residual path counted as attention to oneself.

        Â_l = residual * I + (1 - residual) * mean_heads(A_l)     rows re-normalised to 1
        R   = Â_L Â_{L-1} ... Â_1

    attentions: (L, B, h, T, T). Returns R (B, T, T); R[:, 0, 1:] is the class token's
    relevance of each patch.
    """
    layers, b, _, t, _ = attentions.shape
    eye = torch.eye(t).expand(b, t, t)
    rollout = eye.clone()
    for layer in range(layers):
        mixed = residual * eye + (1 - residual) * attentions[layer].mean(1)
        mixed = mixed / mixed.sum(-1, keepdim=True)
        rollout = mixed @ rollout  # later layers on the left
    return rollout


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def vit_from_config(config: dict[str, Any], base: Any = None) -> VisionTransformer:
    """StageTask builder: a ViT from the config's ``model`` block, seeded with its fit seed."""
    del base  # nothing pretrained
    return VisionTransformer(**config.get("model", {}), seed=int(config.get("fit", {}).get("seed", 0)))


