"""Speed of the text library's multi-head attention against torch.nn.MultiheadAttention.

Same width, heads, inputs and copied weights (so the same outputs, checked here to 1e-5);
causal self-attention on (batch, length, width) inputs. Two measurements, each the median of
``--repeats`` timed runs of ``--steps`` calls after a warm-up:
- train: forward + backward (both modules in training mode, dropout 0);
- infer: forward under torch.no_grad in evaluation mode; torch then takes its fused
  "fast path" (need_weights=False), which ours has no counterpart of.

    .venv/bin/python benchmarks/sequence_models_attention.py --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from dl_roadmap.text.attention import MultiHeadAttention, causal_mask


def timed(call, steps: int, repeats: int) -> float:
    call()
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(steps):
            call()
        runs.append((time.perf_counter() - started) / steps * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(args.width, args.heads, batch_first=True)
    ours = MultiHeadAttention(args.width, args.heads).copy_from(reference)
    x = torch.randn(args.batch, args.length, args.width, requires_grad=True)
    mask = causal_mask(args.length)
    ours_out = ours(x, mask=mask)
    torch_out = reference(x, x, x, attn_mask=~mask, need_weights=False)[0]
    print(f"max |ours - torch| = {float((ours_out - torch_out).abs().max().detach()):.2e}")

    def train_ours():
        ours(x, mask=mask).sum().backward()

    def train_torch():
        reference(x, x, x, attn_mask=~mask, need_weights=False)[0].sum().backward()

    results = {"train ours": timed(train_ours, args.steps, args.repeats),
               "train torch": timed(train_torch, args.steps, args.repeats)}
    ours.eval(), reference.eval()
    with torch.no_grad():
        results["infer ours"] = timed(lambda: ours(x, mask=mask), args.steps, args.repeats)
        results["infer torch"] = timed(lambda: reference(x, x, x, attn_mask=~mask, need_weights=False),
                                       args.steps, args.repeats)
    for name, ms in results.items():
        print(f"{name:12s} {ms:7.3f} ms per call")
    print(f"torch / ours time: train {results['train torch'] / results['train ours']:.2f}, "
          f"infer {results['infer torch'] / results['infer ours']:.2f} ({args.threads} threads, "
          f"batch {args.batch}, length {args.length}, width {args.width}, heads {args.heads})")


if __name__ == "__main__":
    main()
