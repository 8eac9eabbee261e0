"""A CLIP-style dual encoder (Radford et al. 2021), written from its equations.

An image encoder f (a ViT, its head a projection) and a text encoder g (a transformer over
caption tokens, mean-pooled, then a projection) map a batch of N matching pairs into one
space, where both are L2-normalised:

    u_i = f(x_i) / |f(x_i)|        v_j = g(c_j) / |g(c_j)|
    S_ij = exp(tau) * u_i . v_j                     tau learned (init log(1 / 0.07), capped at log 100)
    loss = (CE(S, diag) + CE(S^T, diag)) / 2        symmetric InfoNCE: each image picks its caption
                                                    among the N, and each caption its image

Zero-shot classification embeds one prompt per class (averaged over a prompt ensemble) and
picks the class whose text embedding is nearest the image's.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.image.vit import EncoderBlock, VisionTransformer

MAX_LOGIT_SCALE = math.log(100.0)


class TextEncoder(nn.Module):
    """Token ids (B, L) -> embeddings (B, embed_dim): token + position embeddings, pre-norm
    encoder blocks (the ViT's), final LayerNorm, mean over the non-padding tokens, projection."""

    def __init__(self, vocabulary: int, length: int, dim: int, depth: int, heads: int, mlp_dim: int, embed_dim: int):
        super().__init__()
        self.tokens = nn.Embedding(vocabulary, dim, padding_idx=0)
        self.pos = nn.Parameter(torch.randn(1, length, dim) * 0.02)
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads, mlp_dim) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.project = nn.Linear(dim, embed_dim)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        z = self.tokens(ids) + self.pos[:, : ids.shape[1]]
        for block in self.blocks:
            z = block(z)
        keep = (ids != 0).unsqueeze(-1).float()  # padding (id 0) is left out of the mean
        return self.project((self.norm(z) * keep).sum(1) / keep.sum(1).clamp(min=1))


class DualEncoder(nn.Module):
    """``image`` and ``text`` encoders into one space, and the learned temperature ``tau``."""

    def __init__(self, image: dict[str, Any], text: dict[str, Any], embed_dim: int, vocabulary: int, length: int,
                 seed: int = 0):
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            self.image = VisionTransformer(**image, classes=embed_dim)
            self.text = TextEncoder(vocabulary, length, embed_dim=embed_dim, **text)
            self.tau = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image(images), dim=-1)

    def encode_texts(self, ids: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text(ids), dim=-1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Normalised image embeddings (what the MLflow model serves)."""
        return self.encode_images(images)


def clip_loss(image_embeddings: torch.Tensor, text_embeddings: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of matching (normalised) pairs."""
    logits = tau.clamp(max=MAX_LOGIT_SCALE).exp() * image_embeddings @ text_embeddings.T  # S: (N, N)
    targets = torch.arange(len(logits), device=logits.device)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


def clip_step(model: DualEncoder, batch: Any) -> dict[str, torch.Tensor]:
    """One batch of (images, caption ids): the loss, and how often each image's own caption
    is the batch's best match (``acc``) -- a rough in-batch retrieval accuracy."""
    images, ids, _ = batch
    u, v = model.encode_images(images.unsqueeze(1).float() / 255), model.encode_texts(ids)  # uint8 pixels kept small
    loss = clip_loss(u, v, model.tau)
    return {"loss": loss, "acc": ((u @ v.T).argmax(1) == torch.arange(len(u))).float().mean(),
            "temperature": 1 / model.tau.detach().clamp(max=MAX_LOGIT_SCALE).exp()}
