"""Ours against Stable-Baselines3 on CartPole-v1, three seeds: DQN (RL Zoo dqn.yml, 50k
steps) and PPO (RL Zoo ppo.yml, 100k steps), the same environment, budget, seeds and
greedy evaluation (every 2,500 env steps, 5 seeded episodes) for both libraries.

    python benchmarks/deep_rl_sb3.py [--seeds 1 2] [--include data/08_reporting/deep_rl/curves.csv]
                                     [--threads 1] [--out data/08_reporting/deep_rl/benchmark_sb3]
                                     [--algorithms dqn ppo] [--dqn-variants full vanilla] [--no-sb3]

Runs the same node functions as `kedro run --pipeline=deep_rl` (pipelines/deep_rl/nodes.py)
with conf/base/parameters_deep_rl.yml, one seed at a time, interleaving ours and SB3's
runs so both meet the same machine load. Seed 0 is what `kedro run --pipeline=deep_rl` trains
(ours and SB3's, same functions and parameters): by default the script runs seeds 1 and 2
and adds the seed-0 rows of the pipeline's ``curves.csv`` (``--include``; read at the end,
skipped with a note when the file is missing). Writes ``<out>_curves.csv`` (every evaluation),
``<out>.csv`` (per algorithm and library: runs that solved, env steps to the first
evaluation >= 475, best/final return, training seconds per 10k env steps, evaluations
left out) and ``<out>.png`` (the return curves on one plot).

``--dqn-variants vanilla`` trains our DQN without Double DQN and the dueling head, with
SB3's [256, 256] network (``full``, the default, is ours as configured): the same algorithm
as SB3's DQN, so ours and theirs can be told apart from the two extensions. ``--no-sb3`` skips SB3's runs (to add rows to an earlier table
through ``--include``; the included rows of the agents run again are replaced).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch
import yaml

from dl_roadmap.pipelines.deep_rl import nodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--include", default="data/08_reporting/deep_rl/curves.csv",
                        help="a curves table of other runs to add (the pipeline's seed 0); '' for none")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--params", default="conf/base/parameters_deep_rl.yml")
    parser.add_argument("--out", default="data/08_reporting/deep_rl/benchmark_sb3")
    parser.add_argument("--algorithms", nargs="+", default=["dqn", "ppo"], choices=["dqn", "ppo"])
    parser.add_argument("--dqn-variants", nargs="+", default=["full"], choices=["full", "vanilla"],
                        help="ours as configured (full) and/or without Double DQN and dueling (vanilla)")
    parser.add_argument("--no-sb3", action="store_true", help="only our agents")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.params) as f:
        params = yaml.safe_load(f)["deep_rl"]
    trainer = {"progress_bar": False, "num_threads": args.threads}
    tables = []
    for seed in args.seeds:
        env = {**params["env"], "seed": seed}
        for algo in args.algorithms:
            variants = []
            if algo == "ppo" or "full" in args.dqn_variants:
                variants.append(("ours", params[algo]))
            if algo == "dqn" and "vanilla" in args.dqn_variants:
                variants.append(("ours, vanilla", {**params["dqn"], "double": False, "dueling": False,
                                                   "hidden": list(params["sb3"]["dqn"]["net_arch"])}))
            for library, settings in variants:
                if algo == "dqn":
                    _, history = nodes.train_dqn_agent(env, settings, params["evaluation"], trainer)
                    ours = nodes.curves(history, history.iloc[0:0], pd.DataFrame(), env)
                else:
                    _, history = nodes.train_ppo_agent(env, settings, params["evaluation"], trainer)
                    ours = nodes.curves(history.iloc[0:0], history, pd.DataFrame(), env)
                tables.append(ours.assign(library=library))
            if not args.no_sb3:
                tables.append(nodes.train_sb3_agents(env, {**params["sb3"], "algorithms": [algo], "seeds": [seed]},
                                                     params["evaluation"]))
            print(nodes.comparison(pd.concat(tables, ignore_index=True),
                                   params["evaluation"]["solved_return"]).to_string(index=False), flush=True)
    curves = pd.concat(tables, ignore_index=True)
    if args.include and Path(args.include).is_file():
        earlier = pd.read_csv(args.include)
        rerun = curves[["seed", "algorithm", "library"]].drop_duplicates()
        replaced = earlier.merge(rerun, on=["seed", "algorithm", "library"], how="left", indicator=True)["_merge"]
        earlier = earlier[(replaced == "left_only").to_numpy()]
        print(f"adding {len(earlier)} evaluations of seeds {sorted(set(earlier['seed']))} from {args.include}")
        curves = pd.concat([earlier, curves], ignore_index=True)
    elif args.include:
        print(f"{args.include} not found: the table holds seeds {args.seeds} only")
    table = nodes.comparison(curves, params["evaluation"]["solved_return"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    curves.to_csv(f"{out}_curves.csv", index=False)
    table.to_csv(f"{out}.csv", index=False)
    nodes.curves_figure(curves, params["evaluation"]["solved_return"]).savefig(f"{out}.png", dpi=110)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
