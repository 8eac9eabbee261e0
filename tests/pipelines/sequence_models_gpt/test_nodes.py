"""Nodes of sequence_models_gpt on a small slice of the plays: ingest, a short training, the
measurements and the served model."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from dl_roadmap.pipelines.sequence_models_gpt import nodes
from dl_roadmap.pipelines.sequence_models_gpt.serving import ShakespeareGPT
from dl_roadmap.pipelines.sequence_models_gpt.training import split_loss
from dl_roadmap.text.transformer import GPT

DATA = {"val_fraction": 0.1, "max_chars": 40_000}
MODEL = {"layers": 1, "heads": 2, "dim": 32}
TRAINING = {"block_size": 32, "batch_size": 8, "optimizer": {"name": "AdamW", "lr": 3e-3},
            "scheduler": {"name": "cosine", "warmup_fraction": 0.1}, "gradient_clip_val": 1.0, "eval_batches": 2}
TRAINER = {"accelerator": "cpu", "progress_bar": False}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    text, plays, summary = nodes.read_plays(DATA)
    loop = {"max_iterations": 60, "eval_every": 20, "log_every": 10, "monitor": "val_loss",
            "checkpoint_dir": str(tmp_path_factory.mktemp("ckpt"))}
    bundle, history = nodes.train_gpt(text, DATA, MODEL, TRAINING, loop, TRAINER, num_threads=1)
    return text, plays, summary, bundle, history


def test_ingest_keeps_the_start_and_splits_it(trained):
    text, plays, summary, _, _ = trained
    assert len(text) == 40_000 and len(plays) == 38
    assert (summary["train_characters"], summary["val_characters"]) == (36_000, 4_000)


def test_training_lowers_the_loss_and_keeps_the_best_estimate(trained):
    text, _, _, bundle, history = trained
    assert bundle["iterations"] == 60 and history["loss"].iloc[-1] < history["loss"].iloc[0] - 0.5
    assert bundle["best_val_estimate"] == pytest.approx(history["val_loss"].min())
    figures = nodes.evaluate_gpt(bundle, text, DATA)
    assert figures["val_perplexity"] == pytest.approx(torch.tensor(figures["val_loss"]).exp().item())
    assert figures["val_loss"] < 3.5, "well below a uniform guess over ~70 characters (ln 70 = 4.2)"


def test_split_loss_scores_every_window_once():
    model = GPT(10, block_size=4, layers=1, heads=1, dim=8)
    data = torch.randint(0, 10, (4 * 5 + 1,))
    expected = model.loss(data[:20].view(5, 4), data[1:21].view(5, 4))
    assert split_loss(model, data, batch_windows=2) == pytest.approx(float(expected), rel=1e-5)


def test_cache_benchmark_reports_same_output_and_speed(trained):
    _, _, _, bundle, _ = trained
    table = nodes.cache_benchmark(bundle, {"batch_sizes": [1, 2], "repeats": 1})
    assert table["same_output"].all() and (table["tokens_per_s_cache"] > 0).all()
    assert (table["new_tokens"] == 31).all()


def test_sweep_and_samples(trained):
    text, _, _, bundle, _ = trained
    sweep = nodes.sampling_sweep(bundle, text, {"prompt": "KING:\n", "new_tokens": 60, "temperatures": [0.2, 2.0],
                                                "top_k": [None, 3], "seed": 0})
    assert len(sweep) == 4 and set(sweep["top_k"]) == {"all", 3}
    assert sweep["known_word_share"].between(0, 1).all()
    samples = nodes.write_samples(bundle, {"prompts": ["ROMEO:\n"], "new_tokens": 40, "temperature": 0.8, "top_k": 200})
    assert "## Sample 1, prompt 'ROMEO:\\n'" in samples and "ROMEO:\n" in samples


def test_the_served_model_continues_prompts(trained):
    _, _, _, bundle, _ = trained
    served = ShakespeareGPT(bundle["model"], bundle["chars"])
    out = served.predict(None, pd.DataFrame({"prompt": ["ROMEO:\n", "JULIET:\n"], "max_new_tokens": [20, 5],
                                             "temperature": [0.0, 1.0]}))
    assert list(out.columns) == ["prompt", "continuation"] and [len(c) for c in out["continuation"]] == [20, 5]
    greedy = served.predict(None, ["ROMEO:\n"])
    assert len(greedy.loc[0, "continuation"]) == 200
