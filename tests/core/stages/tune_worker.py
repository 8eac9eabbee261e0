"""A tune worker process on the tiny digits task, for the resume and multi-worker tests.

    python -m tests.core.stages.tune_worker <storage-url> <study-name> <n_trials> <max_epochs>
"""

from __future__ import annotations

import sys

from dl_roadmap.core.stages.tune.nodes import optimize
from tests.core.stages.tiny import CPU_TRAINER, TINY_CONFIG, TINY_TASK, digits_data

SEARCH_SPACE = {
    "fit.optimizer.lr": {"type": "float", "low": 1.0e-3, "high": 3.0e-2, "log": True},
    "model.hidden": {"type": "int", "low": 16, "high": 64, "step": 16},
}


def study_params(storage: str, name: str, n_trials: int, seed: int | None = 0) -> dict:
    return {"name": name, "storage": storage, "n_trials": n_trials, "heartbeat_seconds": 1, "max_retries": 2,
            "sampler": {"name": "tpe", "seed": seed}, "pruner": {"name": "none"}}


def run(storage: str, name: str, n_trials: int, max_epochs: int, seed: int | None = 0, checkpoint_dir: str | None = None):
    config = {**TINY_CONFIG, "fit": {**TINY_CONFIG["fit"], "checkpoint_dir": checkpoint_dir or "checkpoints"}}
    return optimize(
        TINY_TASK, "tiny", digits_data(), config, CPU_TRAINER, study_params(storage, name, n_trials, seed),
        SEARCH_SPACE, {"train_limit": 600, "overrides": {"fit.max_epochs": max_epochs}},
    )


if __name__ == "__main__":
    storage, name, n_trials, max_epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    run(storage, name, n_trials, max_epochs)
