"""The GPT recipe of sequence_models_gpt with another number of iterations, outside Kedro:
trains with conf/base/parameters_sequence_models_gpt.yml (the cosine schedule spans the new
length, as nanoGPT's lr_decay_iters = max_iters) and prints the full validation loss and
the training time. Writes nothing but checkpoints under /tmp (removed at the end).

    .venv/bin/python benchmarks/sequence_models_gpt_budget.py --iterations 2500
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import yaml

from dl_roadmap.pipelines.sequence_models_gpt import nodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2500)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    params = yaml.safe_load((root / "conf/base/parameters_sequence_models_gpt.yml").read_text())["sequence_models_gpt"]
    text, _, _ = nodes.read_plays(params["data"])
    with tempfile.TemporaryDirectory() as folder:
        loop = {**params["loop"], "max_iterations": args.iterations, "checkpoint_dir": folder}
        bundle, _ = nodes.train_gpt(text, params["data"], params["model"], params["training"], loop,
                                    {"accelerator": "cpu", "progress_bar": False}, params["num_threads"])
    figures = nodes.evaluate_gpt(bundle, text, params["data"])
    print(json.dumps({"iterations": args.iterations, **{k: round(v, 4) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
