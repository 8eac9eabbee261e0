"""EWC's λ on permuted MNIST, chosen on the validation split (never the test split): every
λ in each scenario, the average accuracy after the last task (ACC) and the mean accuracy on
each task right after training it (diag R, which falls when λ stops the network learning).

    .venv/bin/python benchmarks/continual_ewc_lambda.py [--scenarios task,domain] [--lambdas 30,300,3000]

The sequence, network and budget are those of conf/base/parameters_continual_learning_permuted.yml.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from dl_roadmap.image.continual_study import ingest, make_sequence
from dl_roadmap.image.continual_training import train_sequence

AREA = "continual_learning_permuted"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenarios", default="task,domain")
    parser.add_argument("--lambdas", default="30,300,3000")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bootstrap_project(Path.cwd())
    with KedroSession.create() as session:
        context = session.load_context()
        raw, params = context.catalog.load("mnist_raw"), context.params
    study = params[AREA]["study"]
    splits, _ = ingest(raw, params[AREA]["data"], study["sequence"])
    sequence = make_sequence(splits, study["sequence"])
    training = {**study["training"], "eval_split": "val"}
    trainer = {**params["trainer"], "progress_bar": False, "num_threads": args.threads}
    fisher_items = study["settings"]["ewc"]["fisher_items"]
    for scenario in args.scenarios.split(","):
        for lam in (float(x) for x in args.lambdas.split(",")):
            out = train_sequence(sequence, scenario, "ewc", training, {"lambda": lam, "fisher_items": fisher_items},
                                 trainer, name=f"ewc_lambda/{scenario}/{lam:g}")
            R = out["R"]
            print(f"{scenario:7s} λ={lam:<8g} ACC={100 * R[-1].mean():.1f}%  diag R={100 * np.diag(R).mean():.1f}%",
                  flush=True)


if __name__ == "__main__":
    main()
