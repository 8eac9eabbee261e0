"""Sampling from a GPT, with and without a key-value cache.

Each new token t is drawn from softmax(z_t / T) restricted to the k most likely tokens
(temperature T: < 1 sharpens, > 1 flattens; top-k cuts the long tail of unlikely characters).

Without a cache every step runs the model over the whole context again: O(L^2) work per
step for a context of L tokens. Causal attention never lets an old position see a new
one, so the keys and values of old positions never change: the cache keeps them and each
step runs the model on the new token only. With learned absolute positions the cache only
holds while the context fits the block; past it the window slides (every position moves),
so both paths recompute the last ``block_size`` tokens, as nanoGPT does.
"""

from __future__ import annotations

import time

import torch

from dl_roadmap.text.transformer import GPT


def next_token(logits: torch.Tensor, temperature: float, top_k: int | None,
               generator: torch.Generator | None) -> torch.Tensor:
    """logits (N, V) -> (N, 1) sampled ids; temperature 0 is greedy (argmax)."""
    if temperature == 0:
        return logits.argmax(-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)


@torch.no_grad()
def generate(model: GPT, prompt: torch.Tensor, new_tokens: int, *, temperature: float = 1.0,
             top_k: int | None = None, seed: int | None = 0, use_cache: bool = True) -> torch.Tensor:
    """prompt (N, L0) ids -> (N, L0 + new_tokens) ids. The same seed gives the same draws
    with and without the cache (the cache changes how logits are computed, not which)."""
    model.eval()
    generator = None
    if seed is not None:
        generator = torch.Generator(device=prompt.device).manual_seed(seed)
    idx, block = prompt, model.block_size
    caches: list[dict] | None = None
    for _ in range(new_tokens):
        if use_cache and idx.size(1) <= block:
            if caches is None:  # prefill: the whole prompt once
                caches = [{} for _ in model.blocks]
                logits = model(idx, caches=caches)
            else:  # one new token at position L-1, reading the cached L-1 positions
                logits = model(idx[:, -1:], caches=caches, past=idx.size(1) - 1)
        else:
            logits = model(idx[:, -block:])
        idx = torch.cat([idx, next_token(logits[:, -1], temperature, top_k, generator)], 1)
    return idx


def tokens_per_second(model: GPT, prompt: torch.Tensor, new_tokens: int, use_cache: bool,
                      repeats: int = 3) -> float:
    """Generated tokens per second (all rows of the batch), the best of ``repeats`` runs."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        generate(model, prompt, new_tokens, temperature=1.0, seed=0, use_cache=use_cache)
        best = min(best, time.perf_counter() - started)
    return prompt.size(0) * new_tokens / best
