"""Speed and agreement of the CPU TDT loss (``tdt_loss``) against its plain reference.

What it measures
    For a few lattice sizes (batch B, frames T, target tokens U, vocabulary V, durations
    [0, 1, 2, 3, 4], sigma 0.02): the wall time of forward + backward of

    vectorised  ``tdt_loss`` (anti-diagonal forward algorithm, autograd backward) on a
                float32 joint, the dtype training uses;
    reference   ``tdt_loss_reference`` (node-by-node Python loops, float64).

    Lengths differ inside the batch (the last utterance gets 3/4 of T and U). The
    vectorised arm is warmed up once, then timed ``--repeats`` times; the reference is
    timed ``--reference-repeats`` times (it is slow). Medians are reported.

What agreement means
    Max absolute difference of the per-utterance losses and of the gradient w.r.t. the
    joint between the vectorised loss and the reference: once with the vectorised loss
    in float64 (the algorithms must agree to rounding) and once in float32 (what
    training gets).

NeMo's own losses on CPU
    The script also tries NeMo's "tdt" (numba) and "tdt_pytorch" losses on a tiny CPU
    batch and records whether they run, and the error when they do not (NeMo 3.0: the
    first refuses CPU, the second calls ``.cuda()``). ``--skip-nemo`` leaves this out
    (importing NeMo takes 10-20 s).

How to run (from the project root)
    .venv/bin/python benchmarks/tdt_loss_cpu.py --out data/08_reporting/benchmarks/tdt_loss_cpu.json
    .venv/bin/python benchmarks/tdt_loss_cpu.py --sizes 2x20x5x16 --repeats 1 --skip-nemo   # smoke test
Run it on an otherwise idle machine: other load makes the timings noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from dl_roadmap.asr.tdt_loss import tdt_loss
from dl_roadmap.asr.tdt_reference import tdt_loss_reference

DURATIONS = [0, 1, 2, 3, 4]
SIGMA = 0.02
DEFAULT_SIZES = ["4x50x10x32", "4x100x20x64", "4x200x40x128"]  # B x T x U x V


def make_case(batch: int, frames: int, tokens: int, vocab: int, seed: int = 0) -> dict:
    """A random float64 joint (B, T, U+1, V+1+D) with blank = V, targets and lengths."""
    gen = torch.Generator().manual_seed(seed)
    joint = torch.randn(batch, frames, tokens + 1, vocab + 1 + len(DURATIONS), generator=gen, dtype=torch.float64)
    targets = torch.randint(0, vocab, (batch, tokens), generator=gen)
    frame_lengths = torch.full((batch,), frames)
    token_lengths = torch.full((batch,), tokens)
    frame_lengths[-1], token_lengths[-1] = max(1, 3 * frames // 4), 3 * tokens // 4
    return {"joint": joint, "targets": targets, "frames": frame_lengths, "tokens": token_lengths, "blank": vocab}


def loss_and_grad(loss_fn, case: dict, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Per-utterance losses, d(sum of losses)/d(joint) and the seconds forward + backward took."""
    joint = case["joint"].to(dtype).clone().requires_grad_()  # a fresh leaf: no gradient carried over
    start = time.perf_counter()
    losses = loss_fn(joint, case["targets"], case["frames"], case["tokens"], DURATIONS, case["blank"],
                     sigma=SIGMA, reduction="none")
    (grad,) = torch.autograd.grad(losses.sum(), joint)
    seconds = time.perf_counter() - start
    return losses.detach().double(), grad.double(), seconds


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest absolute difference."""
    return float((a - b).abs().max())


def run_size(size: str, repeats: int, reference_repeats: int) -> dict:
    """Time both arms on one size and measure their agreement."""
    batch, frames, tokens, vocab = (int(x) for x in size.split("x"))
    case = make_case(batch, frames, tokens, vocab)
    loss_and_grad(tdt_loss, case, torch.float32)  # warm-up
    fast32 = [loss_and_grad(tdt_loss, case, torch.float32) for _ in range(repeats)]
    ref = [loss_and_grad(tdt_loss_reference, case, torch.float64) for _ in range(reference_repeats)]
    fast64 = loss_and_grad(tdt_loss, case, torch.float64)
    ref_loss, ref_grad = ref[0][0], ref[0][1]
    result = {
        "size": {"B": batch, "T": frames, "U": tokens, "V": vocab, "D": len(DURATIONS)},
        "vectorised_s": statistics.median(r[2] for r in fast32),
        "vectorised_float64_s": fast64[2],
        "reference_s": statistics.median(r[2] for r in ref),
        "loss_max_abs_diff_float64": max_diff(fast64[0], ref_loss),
        "grad_max_abs_diff_float64": max_diff(fast64[1], ref_grad),
        "loss_max_abs_diff_float32": max_diff(fast32[0][0], ref_loss),
        "grad_max_abs_diff_float32": max_diff(fast32[0][1], ref_grad),
        "mean_loss": float(ref_loss.mean()),
    }
    result["speedup_reference_over_vectorised"] = result["reference_s"] / result["vectorised_s"]
    return result


def try_nemo_losses() -> dict:
    """Whether NeMo's own TDT losses run on CPU at all (and the error when not)."""
    try:
        from nemo.collections.asr.losses.rnnt import RNNTLoss
    except Exception as exc:  # noqa: BLE001 - report whatever stops the import
        return {"imported": False, "error": f"{type(exc).__name__}: {exc}"}
    case = make_case(2, 6, 2, 4)
    report = {"imported": True}
    for name in ("tdt", "tdt_pytorch"):
        try:
            loss = RNNTLoss(num_classes=case["blank"], loss_name=name, reduction=None,
                            loss_kwargs={"durations": DURATIONS, "sigma": SIGMA})
            value = loss(log_probs=case["joint"].float(), targets=case["targets"],
                         input_lengths=case["frames"], target_lengths=case["tokens"])
            report[name] = {"runs_on_cpu": True, "loss": value.tolist()}
        except Exception as exc:  # noqa: BLE001 - the point is to record the failure
            report[name] = {"runs_on_cpu": False, "error": f"{type(exc).__name__}: {exc}"}
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=DEFAULT_SIZES, help="BxTxUxV, e.g. 4x100x20x64")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of the vectorised loss (median)")
    parser.add_argument("--reference-repeats", type=int, default=1, help="timed runs of the reference (median)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--skip-nemo", action="store_true", help="do not try NeMo's own TDT losses")
    parser.add_argument("--out", help="also write the results as JSON to this path")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"TDT loss, durations {DURATIONS}, sigma {SIGMA}, forward + backward, {args.threads} threads, "
          f"torch {torch.__version__}")

    results = []
    print(f"\n{'B x T x U x V':<16}{'vectorised s':>13}{'reference s':>13}{'speed-up':>10}"
          f"{'|dloss| f64':>13}{'|dgrad| f64':>13}{'|dloss| f32':>13}{'|dgrad| f32':>13}")
    for size in args.sizes:
        r = run_size(size, args.repeats, args.reference_repeats)
        results.append(r)
        print(f"{size:<16}{r['vectorised_s']:>13.4f}{r['reference_s']:>13.2f}"
              f"{r['speedup_reference_over_vectorised']:>9.0f}x"
              f"{r['loss_max_abs_diff_float64']:>13.1e}{r['grad_max_abs_diff_float64']:>13.1e}"
              f"{r['loss_max_abs_diff_float32']:>13.1e}{r['grad_max_abs_diff_float32']:>13.1e}")
    print(f"(vectorised: float32, median of {args.repeats}; reference: float64, median of "
          f"{args.reference_repeats}; |d...|: max abs difference from the reference)")

    nemo = None if args.skip_nemo else try_nemo_losses()
    if nemo is not None:
        print("\nNeMo's own TDT losses on CPU:")
        for name in ("tdt", "tdt_pytorch"):
            entry = nemo.get(name, nemo)
            print(f"  {name:<12} {'runs' if entry.get('runs_on_cpu') else 'does not run: ' + entry.get('error', '')}")

    report = {
        "config": {**vars(args), "durations": DURATIONS, "sigma": SIGMA, "torch": torch.__version__,
                   "machine": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()},
        "results": results,
        "nemo_losses_on_cpu": nemo,
    }
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(report, f, indent=2)
        print(f"results written to {args.out}")
    return report


if __name__ == "__main__":
    main()
