"""Our multi-head self-attention (image/vit.py, written from its equations) against
torch.nn.MultiheadAttention with copied weights.

One forward + backward pass on (batch, tokens, width) inputs, the median of ``--repeats``
timed passes at a fixed number of threads, for the token counts of the ViT (7x7 patches:
17 tokens; 4x4: 50) and of the video transformer's time and space sequences. Prints our ms,
torch's ms, the ratio ours/torch and the largest output difference.

    .venv/bin/python benchmarks/vision_transformers_attention.py --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd
import torch
from torch import nn

from dl_roadmap.image.vit import MultiHeadSelfAttention


def _time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def race(batch: int, tokens: int, dim: int, heads: int, repeats: int) -> dict[str, float]:
    torch.manual_seed(0)
    ours = MultiHeadSelfAttention(dim, heads)
    theirs = nn.MultiheadAttention(dim, heads, batch_first=True)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(ours.qkv.weight)
        theirs.in_proj_bias.copy_(ours.qkv.bias)
        theirs.out_proj.weight.copy_(ours.out.weight)
        theirs.out_proj.bias.copy_(ours.out.bias)
    z = torch.randn(batch, tokens, dim, requires_grad=True)

    def ours_pass() -> None:
        ours(z).sum().backward()

    def theirs_pass() -> None:
        theirs(z, z, z, need_weights=False)[0].sum().backward()

    with torch.no_grad():
        difference = (ours(z) - theirs(z, z, z, need_weights=False)[0]).abs().max().item()
    ours_ms, theirs_ms = _time(ours_pass, repeats), _time(theirs_pass, repeats)
    return {"batch": batch, "tokens": tokens, "dim": dim, "heads": heads, "ours_ms": ours_ms, "torch_ms": theirs_ms,
            "ratio": ours_ms / theirs_ms, "max_abs_difference": difference}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    shapes = [(128, 17, 64, 4), (128, 50, 48, 4), (16 * 16, 10, 48, 4), (16 * 10, 16, 48, 4)]
    table = pd.DataFrame([race(*shape, repeats=args.repeats) for shape in shapes])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
