"""Capsule networks with dynamic routing (Sabour, Frosst & Hinton 2017, "Dynamic Routing
Between Capsules"), written from the paper's equations.

A capsule is a vector: its length is the probability that an entity is present, its
direction the entity's pose (position, thickness, skew...). Layers of capsules are joined
by *routing by agreement*: a child capsule sends its output to the parent whose output
agrees with the child's prediction of it.

    u_i                          output of child capsule i (a primary capsule, 8-D)
    û_{j|i} = W_ij u_i           child i's prediction of parent j's output        (eq. 2)
    s_j = Σ_i c_ij û_{j|i}        parent j's total input                           (eq. 2)
    v_j = squash(s_j)            parent j's output                                (eq. 1)
    c_ij = softmax_j(b_ij)       coupling coefficients, Σ_j c_ij = 1               (eq. 3)
    b_ij ← b_ij + û_{j|i} · v_j   logits grow with agreement       (Procedure 1, line 7)

    margin loss  L_k = T_k max(0, m⁺ - ||v_k||)² + λ (1 - T_k) max(0, ||v_k|| - m⁻)²   (eq. 4)
                 m⁺ = 0.9, m⁻ = 0.1, λ = 0.5; summed over the classes k
    reconstruction: a decoder redraws the image from the true class's capsule (the others
                 masked to 0); its sum of squared errors, scaled by 0.0005, is added to the loss.

The network (the paper's Figure 1, widths as parameters): Conv1 (9x9, ReLU) -> PrimaryCaps
(a 9x9 stride-2 convolution whose channels are grouped into 8-D capsules, squashed) ->
DigitCaps (one 16-D capsule per class, routed from every primary capsule) -> lengths.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.core.stages.compress.measure import parameter_count as count


def squash(s: torch.Tensor, dim: int = -1, eps: float = 1e-8) -> torch.Tensor:
    """v = ||s||² / (1 + ||s||²) · s / ||s||                                        (eq. 1)

    Short vectors shrink to almost 0, long ones to just under 1; the direction is kept.
    ``eps`` keeps the gradient finite at s = 0 (where v = 0)."""
    norm2 = (s * s).sum(dim, keepdim=True)
    return norm2 / (1 + norm2) * s / torch.sqrt(norm2 + eps)


def route(predictions: torch.Tensor, iterations: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Routing by agreement (Procedure 1).

    Args:
        predictions: û_{j|i}, shape (N, children, parents, dim).
        iterations: r ≥ 1; with r = 1 every c_ij is 1 / parents (no agreement step is used).
    Returns:
        v: the parents' outputs (N, parents, dim), and c: the final coupling coefficients
        (N, children, parents), which sum to 1 over the parents of each child.
    """
    if iterations < 1:
        raise ValueError(f"routing iterations: at least 1, got {iterations}")
    n, children, parents, _ = predictions.shape
    b = predictions.new_zeros(n, children, parents)  # b_ij = 0: every parent equally likely
    for r in range(iterations):
        c = b.softmax(dim=2)  # eq. 3: softmax over the parents j of child i
        s = (c.unsqueeze(-1) * predictions).sum(dim=1)  # eq. 2: s_j = Σ_i c_ij û_{j|i}
        v = squash(s)  # eq. 1
        if r < iterations - 1:
            b = b + (predictions * v.unsqueeze(1)).sum(-1)  # agreement û_{j|i} · v_j
    return v, c


def margin_loss(
    lengths: torch.Tensor, labels: torch.Tensor, m_plus: float = 0.9, m_minus: float = 0.1, lam: float = 0.5
) -> torch.Tensor:
    """Σ_k T_k max(0, m⁺ - ||v_k||)² + λ (1 - T_k) max(0, ||v_k|| - m⁻)², mean over the batch (eq. 4).

    λ down-weights the absent classes so that early on their shrinking does not shrink
    every capsule. ``lengths``: (N, classes); ``labels``: (N,) class indices."""
    t = F.one_hot(labels, lengths.shape[1]).to(lengths.dtype)
    present = t * F.relu(m_plus - lengths) ** 2
    absent = lam * (1 - t) * F.relu(lengths - m_minus) ** 2
    return (present + absent).sum(dim=1).mean()


def reconstruction_loss(reconstruction: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Sum of squared pixel differences per image, mean over the batch (the paper scales it
    by 0.0005 so that it does not dominate the margin loss)."""
    return ((reconstruction - images.flatten(1)) ** 2).sum(dim=1).mean()


class CapsNet(nn.Module):
    """Images (N, 1, S, S) in [0, 1] -> capsule lengths (N, classes) in [0, 1).

    ``capsules(x)`` gives the digit capsules v (N, classes, digit_dim) and the coupling
    coefficients; ``reconstruct(v, labels)`` redraws the images from the capsule of
    ``labels`` (or of the longest capsule). The paper's model: conv1_channels 256,
    primary_types 32 (32 x 6 x 6 = 1152 primary capsules of 8-D), digit_dim 16,
    decoder_hidden (512, 1024): 8.2 M parameters (6.8 M without the decoder).
    """

    def __init__(
        self,
        conv1_channels: int = 256,
        conv1_kernel: int = 9,
        primary_types: int = 32,
        primary_dim: int = 8,
        primary_kernel: int = 9,
        primary_stride: int = 2,
        digit_dim: int = 16,
        classes: int = 10,
        routing_iterations: int = 3,
        decoder_hidden: tuple[int, ...] | list[int] = (512, 1024),
        image_size: int = 28,
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(1, conv1_channels, conv1_kernel)
        # PrimaryCaps: one convolution whose primary_types * primary_dim channels are read as
        # primary_types capsule maps of primary_dim-D vectors at every grid position.
        self.primary = nn.Conv2d(conv1_channels, primary_types * primary_dim, primary_kernel, stride=primary_stride)
        grid = (image_size - conv1_kernel + 1 - primary_kernel) // primary_stride + 1
        if grid < 1:
            raise ValueError(f"model: kernels {conv1_kernel} and {primary_kernel} leave no grid "
                             f"on {image_size}px images")
        self.primary_types, self.primary_dim, self.grid = primary_types, primary_dim, grid
        self.children_count = primary_types * grid * grid
        self.classes, self.digit_dim, self.image_size = classes, digit_dim, image_size
        self.routing_iterations = int(routing_iterations)
        # W_ij: one digit_dim x primary_dim matrix per (child i, parent j); the paper's
        # 1152 x 10 x 16 x 8 = 1.47 M weights.
        self.weights = nn.Parameter(0.01 * torch.randn(self.children_count, classes, digit_dim, primary_dim))
        layers: list[nn.Module] = []
        width = classes * digit_dim
        for hidden in decoder_hidden:
            layers += [nn.Linear(width, int(hidden)), nn.ReLU(inplace=True)]
            width = int(hidden)
        self.decoder = nn.Sequential(*layers, nn.Linear(width, image_size * image_size), nn.Sigmoid())

    def primary_capsules(self, x: torch.Tensor) -> torch.Tensor:
        """u_i: (N, children, primary_dim), squashed; children ordered (type, row, column)."""
        h = self.primary(F.relu(self.conv1(x)))
        n = x.shape[0]
        u = h.view(n, self.primary_types, self.primary_dim, self.grid * self.grid).transpose(2, 3)
        return squash(u.reshape(n, self.children_count, self.primary_dim))

    def capsules(self, x: torch.Tensor, iterations: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Digit capsules v (N, classes, digit_dim) and coupling coefficients (N, children, classes)."""
        u = self.primary_capsules(x)
        predictions = torch.einsum("ijdp,nip->nijd", self.weights, u)  # û_{j|i} = W_ij u_i
        return route(predictions, self.routing_iterations if iterations is None else iterations)

    def reconstruct(self, v: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder on the capsule of ``labels`` (default: the longest), others masked to 0;
        returns (N, image_size²) pixels in [0, 1]."""
        if labels is None:
            labels = v.norm(dim=-1).argmax(dim=1)
        mask = F.one_hot(labels, self.classes).to(v.dtype).unsqueeze(-1)
        return self.decoder((v * mask).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v, _ = self.capsules(x)
        return v.norm(dim=-1)


def parameter_count(model: nn.Module, without: str | None = None) -> int:
    """Number of parameters, optionally leaving out one submodule (``decoder``)."""
    return count(model) - (count(getattr(model, without)) if without else 0)
