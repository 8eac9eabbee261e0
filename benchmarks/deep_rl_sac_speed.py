"""Seconds per 1,000 SAC steps on Pendulum-v1: ours (dl_roadmap.rl.sac) against
Stable-Baselines3's SAC, same settings, alternating, after a warm-up, one thread.

    .venv/bin/python benchmarks/deep_rl_sac_speed.py --hidden 64 64 --steps 1000 --repeats 3
    .venv/bin/python benchmarks/deep_rl_sac_speed.py --hidden 256 256     # rl-zoo's network size

Each timed block is ``--steps`` environment steps with one gradient step each (past
learning_starts); the median over ``--repeats`` blocks is printed for both.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from stable_baselines3 import SAC as SB3SAC

    from dl_roadmap.rl.sac import SAC

    settings = dict(hidden=args.hidden, lr=1e-3, buffer_size=1_000_000, learning_starts=100, batch_size=256,
                    tau=0.005, gamma=0.99, gradient_steps=1, initial_alpha=1.0)
    ours = SAC("Pendulum-v1", settings, seed=0)
    sb3 = SB3SAC("MlpPolicy", "Pendulum-v1", learning_rate=1e-3, learning_starts=100, batch_size=256,
                 policy_kwargs={"net_arch": args.hidden}, seed=0, device="cpu", verbose=0)
    for _ in range(300):  # warm-up, past learning_starts
        ours.step()
    sb3.learn(300)
    times = {"ours": [], "sb3": []}
    for _ in range(args.repeats):
        started = time.perf_counter()
        for _ in range(args.steps):
            ours.step()
        times["ours"].append(time.perf_counter() - started)
        started = time.perf_counter()
        sb3.learn(args.steps, reset_num_timesteps=False)
        times["sb3"].append(time.perf_counter() - started)
    for name, values in times.items():
        print(f"{name}: {1000 * statistics.median(values) / args.steps:.2f} s per 1k steps "
              f"(hidden {args.hidden}, {args.threads} thread(s), median of {args.repeats})")


if __name__ == "__main__":
    main()
