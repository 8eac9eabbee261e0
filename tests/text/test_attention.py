"""The text library's attention and Transformer against PyTorch's: copied weights, stated
tolerances; positions, masks and the KV cache."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dl_roadmap.text.attention import (
    AdditiveAttention, MultiHeadAttention, MultiplicativeAttention, causal_mask, scaled_dot_product_attention,
)
from dl_roadmap.text.generation import generate
from dl_roadmap.text.transformer import GPT, PositionalEncoding, Seq2SeqTransformer, sinusoidal_table

FLOAT32_TOL = 1e-5  # float32: both sides sum the same products in different orders
FLOAT64_TOL = 1e-12


def _pair(dim: int = 32, heads: int = 4, dtype=torch.float32) -> tuple[MultiHeadAttention, nn.MultiheadAttention]:
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(dim, heads, batch_first=True).to(dtype)
    with torch.no_grad():  # PyTorch starts the biases at 0: give them values so they are checked too
        reference.in_proj_bias.normal_()
        reference.out_proj.bias.normal_()
    return MultiHeadAttention(dim, heads).to(dtype).copy_from(reference).eval(), reference.eval()


@pytest.mark.parametrize(("dtype", "tol"), [(torch.float32, FLOAT32_TOL), (torch.float64, FLOAT64_TOL)])
def test_multi_head_attention_matches_torch_with_copied_weights(dtype, tol):
    ours, reference = _pair(dtype=dtype)
    query, memory = torch.randn(3, 7, 32, dtype=dtype), torch.randn(3, 9, 32, dtype=dtype)
    padding = torch.zeros(3, 9, dtype=torch.bool)
    padding[0, 5:], padding[2, 8:] = True, True
    # cross-attention with padded keys
    expected, _ = reference(query, memory, memory, key_padding_mask=padding)
    assert torch.allclose(ours(query, memory, key_padding=padding), expected, atol=tol, rtol=0)
    # causal self-attention (torch's attn_mask is True where attention is NOT allowed)
    mask = causal_mask(7)
    expected, _ = reference(query, query, query, attn_mask=~mask)
    assert torch.allclose(ours(query, mask=mask), expected, atol=tol, rtol=0)


def test_gradients_match_torch_too():
    ours, reference = _pair()
    x = torch.randn(2, 6, 32)
    ours(x, mask=causal_mask(6)).square().sum().backward()
    reference(x, x, x, attn_mask=~causal_mask(6))[0].square().sum().backward()
    assert torch.allclose(ours.in_proj.weight.grad, reference.in_proj_weight.grad, atol=1e-4)
    assert torch.allclose(ours.out_proj.weight.grad, reference.out_proj.weight.grad, atol=1e-4)


def test_scaled_dot_product_attention_is_the_formula():
    q, k, v = torch.randn(2, 4, 8), torch.randn(2, 5, 8), torch.randn(2, 5, 3)
    out, weights = scaled_dot_product_attention(q, k, v)
    expected = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(8), -1)
    assert torch.allclose(weights, expected) and torch.allclose(out, expected @ v)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 4))
    assert torch.allclose(out, torch.nn.functional.scaled_dot_product_attention(q, k, v), atol=1e-6)


def test_causal_mask_hides_the_future_and_counts_the_past():
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    assert causal_mask(1, past=4).tolist() == [[True] * 5]


def test_a_causal_output_does_not_depend_on_later_tokens():
    model = GPT(20, block_size=16, layers=2, heads=2, dim=16).eval()
    x = torch.randint(0, 20, (1, 10))
    changed = x.clone()
    changed[0, 6:] = (changed[0, 6:] + 1) % 20
    assert torch.allclose(model(x)[0, :6], model(changed)[0, :6], atol=1e-6)
    assert not torch.allclose(model(x)[0, 6:], model(changed)[0, 6:])


def test_sinusoidal_table_is_the_formula_and_learned_positions_train():
    table = sinusoidal_table(50, 16)
    p, i = 7, 3
    assert math.isclose(table[p, 2 * i], math.sin(p / 10000 ** (2 * i / 16)), abs_tol=1e-6)
    assert math.isclose(table[p, 2 * i + 1], math.cos(p / 10000 ** (2 * i / 16)), abs_tol=1e-6)
    assert [n for n, _ in PositionalEncoding("learned", 8, 4).named_parameters()] == ["table"]
    assert list(PositionalEncoding("sinusoidal", 8, 4).parameters()) == []
    with pytest.raises(ValueError, match="position 8 past the longest known"):
        PositionalEncoding("learned", 8, 4)(torch.zeros(1, 9, 4))


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_kv_cache_gives_the_same_tokens(temperature):
    torch.manual_seed(0)
    model = GPT(30, block_size=24, layers=2, heads=2, dim=16)
    prompt = torch.randint(0, 30, (3, 4))
    # 40 new tokens: the cache is used up to the block, then both slide the window
    cached = generate(model, prompt, 40, temperature=temperature, top_k=10, seed=5, use_cache=True)
    plain = generate(model, prompt, 40, temperature=temperature, top_k=10, seed=5, use_cache=False)
    assert torch.equal(cached, plain)


def test_cached_logits_equal_full_logits():
    torch.manual_seed(1)
    model = GPT(30, block_size=16, layers=2, heads=2, dim=16).eval()
    x = torch.randint(0, 30, (2, 12))
    caches = [{} for _ in model.blocks]
    first = model(x[:, :8], caches=caches)
    rest = torch.cat([model(x[:, t: t + 1], caches=caches, past=t) for t in range(8, 12)], 1)
    assert torch.allclose(torch.cat([first, rest], 1), model(x), atol=1e-5)


def test_recurrent_attentions_are_weighted_means_that_skip_padding():
    keys = torch.randn(2, 5, 6)
    padding = torch.tensor([[False] * 5, [False, False, False, True, True]])
    for attention in (AdditiveAttention(4, 6, 8), MultiplicativeAttention(4, 6)):
        context, weights = attention(torch.randn(2, 4), keys, attention.precompute(keys), padding)
        assert torch.allclose(weights.sum(1), torch.ones(2)) and (weights[1, 3:] == 0).all()
        assert torch.allclose(context, (weights[:, :, None] * keys).sum(1))


def test_transformer_cross_attention_maps_are_distributions_over_the_input():
    model = Seq2SeqTransformer(20, 8, dim=16, heads=2, encoder_layers=1, decoder_layers=1).eval()
    src = torch.randint(3, 20, (2, 9))
    src[1, 6:] = 0
    ids, weights = model.greedy(src, 5)
    assert ids.shape == (2, 5) and weights.shape == (2, 5, 9)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 5)) and (weights[1, :, 6:] == 0).all()
