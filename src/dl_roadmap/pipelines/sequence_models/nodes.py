"""Nodes of sequence_models: generated date pairs -> GRU encoder-decoders without and with
attention and a Transformer, trained alike -> exact match against input length, attention maps.

The models are the text library's (dl_roadmap.text.recurrent, .transformer); what is here
is the data flow, the training step and what is measured.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import TensorDataset

from dl_roadmap.core.params import deep_merge
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.text.dates import generate_pairs, validate_pairs
from dl_roadmap.text.recurrent import GRUSeq2Seq
from dl_roadmap.text.transformer import Seq2SeqTransformer
from dl_roadmap.text.vocab import BOS, PAD, CharVocab

logger = logging.getLogger(__name__)

TARGET_CHARS = "0123456789-"
TARGET_LENGTH = 10  # yyyy-mm-dd
SPLITS = ("train", "val", "test")


# --- ingest -------------------------------------------------------------------------------


def generate_dates(data: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The seeded generator is the data set (no public corpus of written dates exists
    offline): ``n_train + n_val + n_test`` distinct pairs, split in that order, validated.

    Returns:
        The pairs (``input``, ``target``, ``form``, ``split``) and a summary of them.
    """
    sizes = {split: int(data[f"n_{split}"]) for split in SPLITS}
    pairs = generate_pairs(sum(sizes.values()), int(data["seed"]), data.get("forms"))
    pairs["split"] = np.repeat(list(sizes), list(sizes.values()))
    validate_pairs(pairs, "generated date pairs", int(data["max_input_length"]))
    lengths = pairs["input"].str.len()
    summary = {
        **{f"{split}_size": n for split, n in sizes.items()},
        "input_length_min": int(lengths.min()), "input_length_median": float(lengths.median()),
        "input_length_max": int(lengths.max()),
        "forms": pairs["form"].value_counts().to_dict(),
        "distinct_characters": int(len(set("".join(pairs["input"])))),
        "examples": pairs.groupby("form").head(3)[["input", "target"]].values.tolist(),
    }
    return pairs, summary


def read_pairs(pairs: pd.DataFrame, max_input_length: int) -> dict[str, pd.DataFrame]:
    """The stored pairs, checked again on the way in (a hand-edited file fails by row)."""
    if "split" not in pairs.columns:
        raise ValueError("sequence_models_pairs: no 'split' column")
    validate_pairs(pairs, "sequence_models_pairs", max_input_length)
    splits = {split: pairs[pairs["split"] == split].reset_index(drop=True) for split in SPLITS}
    empty = [split for split, frame in splits.items() if frame.empty]
    if empty:
        raise ValueError(f"sequence_models_pairs: no rows in split(s) {empty}")
    return splits


def encode_split(frame: pd.DataFrame, source: CharVocab, target: CharVocab) -> TensorDataset:
    """(input ids (N, L) padded, decoder input [BOS, y_1..y_9], decoder target y_1..y_10)."""
    src = source.batch(list(frame["input"]))
    out = target.batch(list(frame["target"]), TARGET_LENGTH)
    dec_in = torch.cat([torch.full((len(frame), 1), BOS, dtype=torch.long), out[:, :-1]], 1)
    return TensorDataset(src, dec_in, out)


# --- train --------------------------------------------------------------------------------


def build_model(config: dict[str, Any], in_vocab: int, out_vocab: int, max_len: int) -> nn.Module:
    """A GRUSeq2Seq or a Seq2SeqTransformer from a ``models.<name>`` block (``fit`` aside)."""
    settings = {k: v for k, v in config.items() if k not in ("kind", "fit")}
    if config["kind"] == "gru":
        return GRUSeq2Seq(in_vocab, out_vocab, **settings)
    return Seq2SeqTransformer(in_vocab, out_vocab, max_len=max_len, **settings)


def _trim(src: torch.Tensor) -> torch.Tensor:
    """Drop the padding columns every row of the batch has (batches are padded to the longest input)."""
    return src[:, : int((src != PAD).sum(1).max())]


def seq2seq_step(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
    """Teacher forcing: cross-entropy of each output character given the true previous ones."""
    src, dec_in, out = batch
    logits = model(_trim(src), dec_in)
    right = logits.argmax(-1) == out
    return {"loss": F.cross_entropy(logits.transpose(1, 2), out), "char_acc": right.float().mean()}


def greedy_exact_match(model: nn.Module, batches: Any) -> dict[str, float]:
    """Exact match of greedy decoding (the model reads its own outputs), over a whole split."""
    hits = total = 0
    for src, _, out in batches:
        predicted, _ = model.greedy(_trim(src), TARGET_LENGTH)
        hits += int((predicted == out).all(1).sum())
        total += len(out)
    return {"exact_match": hits / max(total, 1)}


def with_threads(trainer: dict[str, Any], num_threads: int | None) -> dict[str, Any]:
    """The trainer block with the area's thread count (when set): these models are small, and
    one thread runs them faster than two on a busy 2-core machine (see FACTS in the README)."""
    return {**trainer, "num_threads": num_threads} if num_threads else trainer


def train_models(pairs: pd.DataFrame, data: dict[str, Any], models: dict[str, dict[str, Any]],
                 fit_params: dict[str, Any], trainer: dict[str, Any], num_threads: int | None = None,
                 ) -> tuple[dict[str, Any], pd.DataFrame]:
    """Train every model of ``models`` through ``core.training.fit`` on the same pairs,
    monitoring the validation exact match of greedy decoding; ``num_threads`` (if set)
    replaces the trainer block's.

    Returns:
        A bundle (the models, both vocabularies, the timings) and per-epoch histories.
    """
    splits = read_pairs(pairs, int(data["max_input_length"]))
    source, target = CharVocab.from_texts(splits["train"]["input"]), CharVocab(TARGET_CHARS)
    train, val = (encode_split(splits[s], source, target) for s in ("train", "val"))
    max_len = int(data["max_input_length"])
    trained, histories, seconds = {}, [], {}
    for name, config in models.items():
        own_fit = deep_merge(fit_params, config.get("fit"))
        torch.manual_seed(int(own_fit.get("seed", 0)))  # the initial weights (fit seeds the rest)
        model = build_model(config, len(source), len(target), max_len)
        result = fit(model, train, val, step=seq2seq_step, name=name, evaluate=greedy_exact_match,
                     fit_params=own_fit, trainer_params=with_threads(trainer, num_threads))
        trained[name], seconds[name] = result.model, result.seconds
        histories.append(result.history.assign(model=name))
        logger.info("%s: best val exact match %.4f in %.0f s", name, result.history["val_exact_match"].max(),
                    result.seconds)
    bundle = {"models": trained, "source_chars": source.state(), "target_chars": target.state(),
              "train_seconds": seconds, "configs": models}
    return bundle, pd.concat(histories, ignore_index=True)


# --- measure ------------------------------------------------------------------------------


@torch.no_grad()
def decode_texts(model: nn.Module, texts: list[str], source: CharVocab, target: CharVocab,
                 batch_size: int = 512) -> tuple[list[str], list[np.ndarray]]:
    """Greedy outputs for raw texts, and each text's attention map (TARGET_LENGTH, len(text))."""
    model.eval()
    outputs, maps = [], []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start: start + batch_size]
        ids, weights = model.greedy(source.batch(chunk), TARGET_LENGTH)
        outputs += [target.decode(row) for row in ids]
        maps += [w[:, : len(text)].numpy() for w, text in zip(weights, chunk)]
    return outputs, maps


def evaluate_models(bundle: dict[str, Any], pairs: pd.DataFrame, data: dict[str, Any],
                    length_bins: list[int]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Test-split exact match and character accuracy per model, overall, per input-length
    bin and per form of writing; and every test prediction.

    Returns:
        results (one row per model), by_length (model, bin, count, exact_match), predictions.
    """
    test = read_pairs(pairs, int(data["max_input_length"]))["test"]
    source, target = CharVocab(bundle["source_chars"]), CharVocab(bundle["target_chars"])
    texts, truth = list(test["input"]), test["target"].to_numpy()
    bins = pd.cut(test["input"].str.len(), bins=length_bins, right=True)
    rows, by_length, predictions = [], [], test[["input", "target", "form"]].copy()
    for name, model in bundle["models"].items():
        predicted, _ = decode_texts(model, texts, source, target)
        exact = np.array(predicted) == truth
        chars = np.mean([sum(a == b for a, b in zip(p, t)) / TARGET_LENGTH for p, t in zip(predicted, truth)])
        predictions[name] = predicted
        config = bundle["configs"][name]
        rows.append({
            "model": name, "architecture": config["kind"], "attention": config.get("attention", "multi-head"),
            "test_exact_match": float(exact.mean()), "test_char_acc": float(chars),
            "parameters": sum(p.numel() for p in model.parameters()),
            "train_seconds": float(bundle["train_seconds"][name]),
            **{f"exact_match_{form}": float(exact[(test["form"] == form).to_numpy()].mean())
               for form in sorted(test["form"].unique())},
        })
        frame = pd.DataFrame({"bin": bins, "exact": exact}).groupby("bin", observed=True)["exact"]
        by_length.append(pd.DataFrame({"model": name, "bin": frame.mean().index.astype(str),
                                       "length_upper": [b.right for b in frame.mean().index],
                                       "count": frame.size().to_numpy(), "exact_match": frame.mean().to_numpy()}))
    results = pd.DataFrame(rows).sort_values("test_exact_match", ascending=False, ignore_index=True)
    return results, pd.concat(by_length, ignore_index=True), predictions


def summarize(results: pd.DataFrame, by_length: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per model: test exact match, character accuracy, training seconds, and exact match on
    the longest-input bin, as MLflow metrics."""
    metrics: dict[str, float] = {}
    for row in results.to_dict("records"):
        for key in ("test_exact_match", "test_char_acc", "train_seconds", "parameters"):
            metrics[f"{row['model']}.{key}"] = row[key]
        own = by_length[by_length["model"] == row["model"]]
        metrics[f"{row['model']}.longest_bin_exact_match"] = float(own.sort_values("length_upper")["exact_match"].iloc[-1])
    return metrics_for_mlflow(metrics)


def build_serving_model(bundle: dict[str, Any], serving: dict[str, Any]) -> Any:
    """The chosen model as an MLflow pyfunc: a list of written dates -> yyyy-mm-dd."""
    from dl_roadmap.pipelines.sequence_models.serving import DateNormaliser

    name = serving["model"]
    if name not in bundle["models"]:
        raise KeyError(f"sequence_models.serving.model: {name!r} is not among the models {sorted(bundle['models'])}")
    return DateNormaliser(bundle["models"][name], bundle["source_chars"], bundle["target_chars"])
