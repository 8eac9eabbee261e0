"""The dual encoder's loss and the caption generator against their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dl_roadmap.pipelines.vision_transformers_multimodal import pairs
from dl_roadmap.pipelines.vision_transformers_multimodal.clip import DualEncoder, clip_loss, clip_step
from dl_roadmap.pipelines.vision_transformers_multimodal.nodes import recall_at

IMAGE = {"image_size": [28, 56], "patch_size": 7, "dim": 16, "depth": 1, "heads": 2, "mlp_dim": 16}
TEXT = {"dim": 16, "depth": 1, "heads": 2, "mlp_dim": 16}


def test_the_loss_is_the_mean_of_both_directions_cross_entropies() -> None:
    torch.manual_seed(0)
    u, v = F.normalize(torch.randn(5, 8), dim=-1), F.normalize(torch.randn(5, 8), dim=-1)
    tau = torch.tensor(math.log(10.0))
    logits = 10.0 * u @ v.T
    by_hand = sum(-torch.log_softmax(logits, 1)[i, i] - torch.log_softmax(logits, 0)[i, i] for i in range(5)) / 10
    assert clip_loss(u, v, tau).item() == pytest.approx(by_hand.item(), rel=1e-5)
    assert clip_loss(u, u, torch.tensor(math.log(100.0))) < clip_loss(u, v, torch.tensor(math.log(100.0))), \
        "matching pairs cost less"
    capped = clip_loss(u, v, torch.tensor(10.0))
    assert capped.item() == pytest.approx(clip_loss(u, v, torch.tensor(math.log(100.0))).item()), "scale capped at 100"


def test_captions_read_both_word_orders_and_encode_to_fixed_length() -> None:
    assert pairs.caption(7, 2) == "a seven left of a two"
    assert pairs.caption(7, 2, right_of=True) == "a two right of a seven"
    ids = pairs.encode("a seven left of a two")
    assert ids.shape == (pairs.LENGTH,) and (ids > 0).all()
    assert pairs.encode("a seven").tolist()[2:] == [0, 0, 0, 0]
    with pytest.raises(ValueError, match="unknown words"):
        pairs.encode("a photo of a seven")


def test_pairs_put_the_left_digit_on_the_left() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (20, 28, 28)).astype(np.uint8)
    labels = np.arange(20) % 10
    made = pairs.make_pairs(images, labels, 30, seed=1)
    assert made["images"].shape == (30, 28, 56)
    first = int(np.flatnonzero((images == made["images"][0, :, :28]).all(axis=(1, 2)))[0])
    assert labels[first] == made["left"][0] and made["pair"][0] == 10 * made["left"][0] + made["right"][0]
    text = pairs.describe(made, 30)
    assert all(f"{pairs.NUMBERS[l]} left of a {pairs.NUMBERS[r]}" in t or f"{pairs.NUMBERS[r]} right of a "
               f"{pairs.NUMBERS[l]}" in t for t, l, r in zip(text, made["left"], made["right"]))


def test_the_dual_encoder_embeds_both_sides_on_the_unit_sphere() -> None:
    model = DualEncoder(IMAGE, TEXT, embed_dim=12, vocabulary=len(pairs.VOCABULARY), length=pairs.LENGTH)
    images = torch.randint(0, 256, (4, 28, 56), dtype=torch.uint8)
    ids = torch.from_numpy(np.stack([pairs.encode(pairs.caption(i, i + 1)) for i in range(4)]))
    out = clip_step(model, (images, ids, torch.zeros(4)))
    assert out["loss"].item() > 0 and 0 <= out["acc"].item() <= 1
    assert out["temperature"].item() == pytest.approx(0.07, rel=1e-4), "initial temperature"
    assert torch.allclose(model(images.unsqueeze(1).float() / 255).norm(dim=-1), torch.ones(4))


def test_recall_counts_the_correct_item_in_the_top_k() -> None:
    scores = torch.tensor([[0.9, 0.1, 0.5], [0.2, 0.3, 0.8]])
    assert recall_at(scores, torch.tensor([0, 1]), 1) == 0.5
    assert recall_at(scores, torch.tensor([0, 1]), 2) == 1.0
