"""The ViT's pieces against their definitions and against PyTorch's own attention."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dl_roadmap.image.cnn import SmallCNN
from dl_roadmap.image.vit_study import matched_cnn
from dl_roadmap.image.vit import (
    MultiHeadSelfAttention, VisionTransformer, attention_rollout, count_parameters, patchify, vit_from_config,
)

TOLERANCE = 1e-5  # float32, same weights: only the order of summation differs


@pytest.mark.parametrize("dim,heads", [(16, 1), (32, 4), (48, 6)])
def test_attention_matches_torch_multihead_attention_with_copied_weights(dim: int, heads: int) -> None:
    torch.manual_seed(0)
    ours = MultiHeadSelfAttention(dim, heads).eval()
    reference = nn.MultiheadAttention(dim, heads, batch_first=True).eval()
    with torch.no_grad():  # same layout: W_qkv rows = in_proj_weight, W_o = out_proj
        reference.in_proj_weight.copy_(ours.qkv.weight)
        reference.in_proj_bias.copy_(ours.qkv.bias)
        reference.out_proj.weight.copy_(ours.out.weight)
        reference.out_proj.bias.copy_(ours.out.bias)
    z = torch.randn(3, 17, dim)
    ours.keep_attention = True
    output = ours(z)
    expected, weights = reference(z, z, z, need_weights=True, average_attn_weights=False)
    assert torch.allclose(output, expected, atol=TOLERANCE)
    assert torch.allclose(ours.attention, weights, atol=TOLERANCE), "the attention maps A_j themselves"
    assert torch.allclose(ours.attention.sum(-1), torch.ones(3, heads, 17), atol=TOLERANCE), "rows sum to 1"


def test_attention_refuses_a_width_the_heads_do_not_divide() -> None:
    with pytest.raises(ValueError, match="multiple of model.heads"):
        MultiHeadSelfAttention(30, 4)


def test_patchify_cuts_row_by_row_patches() -> None:
    image = torch.arange(16.0).reshape(1, 1, 4, 4)
    patches = patchify(image, 2)
    assert patches.shape == (1, 4, 4)
    assert patches[0, 0].tolist() == [0, 1, 4, 5] and patches[0, 1].tolist() == [2, 3, 6, 7]
    assert patches[0, 3].tolist() == [10, 11, 14, 15]


def test_the_vit_maps_images_to_logits_and_keeps_attention_per_layer() -> None:
    model = VisionTransformer(patch_size=7, dim=16, depth=3, heads=2, mlp_dim=32, classes=5, seed=0)
    images = torch.rand(4, 1, 28, 28)
    assert model(images).shape == (4, 5)
    maps = model.attention_maps(images)
    assert maps.shape == (3, 4, 2, 17, 17), "(layers, batch, heads, 1 + 16 patches, same)"
    assert all(block.attn.attention is None for block in model.blocks), "maps are not kept after the call"
    # Parameters: patch embedding 49*16+16, class token 16, positions 17*16, three blocks, norm, head.
    block = 2 * 32 + (16 * 48 + 48) + (16 * 16 + 16) + (16 * 32 + 32) + (32 * 16 + 16)
    assert count_parameters(model) == 49 * 16 + 16 + 16 + 17 * 16 + 3 * block + 32 + 16 * 5 + 5


def test_the_builder_is_seeded_and_refuses_a_patch_that_does_not_tile() -> None:
    config = {"model": {"dim": 16, "depth": 1, "heads": 2, "mlp_dim": 16}, "fit": {"seed": 3}}
    assert torch.equal(vit_from_config(config).embed.weight, vit_from_config(config).embed.weight)
    with pytest.raises(ValueError, match="patch_size 5 must divide"):
        VisionTransformer(patch_size=5)


def test_rollout_without_attention_is_the_identity_and_rows_stay_distributions() -> None:
    identity = torch.eye(5).expand(2, 3, 4, 5, 5)  # every token attends to itself only
    assert torch.allclose(attention_rollout(identity), torch.eye(5).expand(3, 5, 5))
    uniform = torch.full((2, 1, 1, 4, 4), 0.25)
    rollout = attention_rollout(uniform, residual=0.5)
    assert torch.allclose(rollout.sum(-1), torch.ones(1, 4))
    # One layer: 0.5 I + 0.5 * 1/4 everywhere; two layers multiply: diagonal 0.625^2 + 3 * 0.125^2.
    assert rollout[0, 0, 0].item() == pytest.approx(0.625 ** 2 + 3 * 0.125 ** 2)


def test_the_cnn_is_matched_to_the_vit_parameter_count() -> None:
    target = count_parameters(VisionTransformer(patch_size=7, dim=64, depth=4, heads=4, mlp_dim=128))
    cnn = matched_cnn({"channels": [16, 32]}, target, seed=0)
    assert isinstance(cnn, SmallCNN)
    per_hidden_unit = 32 * 7 * 7 + 1 + 10  # one more hidden unit: its input weights, bias, output weights
    assert abs(count_parameters(cnn) - target) <= per_hidden_unit / 2
