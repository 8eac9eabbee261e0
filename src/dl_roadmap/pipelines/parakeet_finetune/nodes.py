"""Nodes of parakeet_finetune: ingest -> validate -> split -> starting model -> evaluate.

Training itself is the shared tune stage's final model (``asr.finetune.ASR_TASK``); the
compress node is in ``compression.py`` beside this file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.asr.errors import error_counts, error_summary, top_errors_figure, utterance_table, wer_comparison_figure
from dl_roadmap.asr.finetune import OFFLINE, tokenizer_characters
from dl_roadmap.asr.manifest import read_sources
from dl_roadmap.asr.measure import measure
from dl_roadmap.asr.model_io import load_base, save_nemo
from dl_roadmap.asr.splits import DEFAULT_SPLIT_FRACTIONS, split_rows
from dl_roadmap.asr.text import DEFAULT_TEXT_PARAMS, check_text_params
from dl_roadmap.asr.tokenizer import adapt_tokenizer
from dl_roadmap.asr.validation import check_reject_threshold, normalize_rows, validate_rows
from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.plotting import training_curves

logger = logging.getLogger(__name__)

DATA_DEFAULTS: dict[str, Any] = {
    "sources": [],
    "text": dict(DEFAULT_TEXT_PARAMS),
    "min_duration_s": 0.1,
    "max_duration_s": 20.0,
    "max_reject_fraction": 0.05,
    "audio_dir": "data/02_intermediate/parakeet_finetune/audio",  # conf sets it under the data root
    "split": {"fractions": dict(DEFAULT_SPLIT_FRACTIONS), "seed": 0},
}
BASE_DEFAULTS: dict[str, Any] = {
    "source": OFFLINE,
    "tokenizer": "keep",
    "vocab_size": 64,
    "tokenizer_kind": "bpe",
    "start_dir": "data/06_models/parakeet_finetune",  # conf sets it under the data root
}
EVALUATE_DEFAULTS: dict[str, Any] = {"batch_size": 8, "top_errors": 15}


def _data_params(params: dict[str, Any]) -> dict[str, Any]:
    params = over_defaults(params, DATA_DEFAULTS, "parakeet_finetune.data")
    params["text"] = check_text_params(params["text"])
    if not params["sources"]:
        raise ValueError("parakeet_finetune.data.sources is empty: list at least one manifest or transcript table")
    return params


def _base_params(params: dict[str, Any]) -> dict[str, Any]:
    params = over_defaults(params, BASE_DEFAULTS, "parakeet_finetune.base")
    if params["tokenizer"] not in ("keep", "adapt"):
        raise ValueError(f"parakeet_finetune.base.tokenizer: 'keep' or 'adapt', got {params['tokenizer']!r}")
    return params


def base_source(base: dict[str, Any], base_card: dict[str, Any]) -> str:
    """What the base model is loaded from: the offline base's .nemo, or the given source."""
    base = _base_params(base)
    if base["source"] != OFFLINE:
        return str(base["source"])
    if not base_card.get("nemo"):
        raise ValueError("parakeet_finetune.base.source is 'offline' but parakeet_base made no model")
    return str(base_card["nemo"])


def _load(base: dict[str, Any], base_card: dict[str, Any]) -> nn.Module:
    return load_base(base_source(base, base_card))


# --- ingest ------------------------------------------------------------------------------


def base_characters(base: dict[str, Any], base_card: dict[str, Any]) -> list[str] | None:
    """The characters the base model's vocabulary can spell (None when the tokenizer is to
    be retrained on the data, which then decides the vocabulary)."""
    if _base_params(base)["tokenizer"] == "adapt":
        return None
    return sorted(tokenizer_characters(_load(base, base_card)))


def read_transcripts(params: dict[str, Any], demo_corpus: dict[str, str]) -> list[dict[str, Any]]:
    """Every row of every source, text normalised; unreadable lines are kept, marked with
    their problem, so that validation reports them.

    ``demo_corpus`` only orders this node after the corpus is spoken (the default sources
    are its manifests).
    """
    params = _data_params(params)
    rows = normalize_rows(read_sources(params["sources"]), params["text"])
    logger.info("Read %d transcript rows from %d source(s)", len(rows), len(params["sources"]))
    return rows


def validate_transcripts(rows: list[dict[str, Any]], params: dict[str, Any], characters: list[str] | None
                         ) -> tuple[list[dict[str, Any]], pd.DataFrame, dict[str, Any]]:
    """Decode and check every clip (converted to 16 kHz mono WAV where needed).

    Returns:
        Clean rows, the rejects table (one line per problem: source, line, audio file,
        field, problem) and a summary. The rejects are saved before the threshold check
        (the next node), so a run stopped by bad data leaves the full report behind.
    """
    params = _data_params(params)
    clean, rejects = validate_rows(rows, max_duration_s=params["max_duration_s"],
                                   min_duration_s=params["min_duration_s"], allowed_chars=characters,
                                   audio_dir=params["audio_dir"])
    summary = {"rows_read": len(rows), "rows_clean": len(clean),
               "rows_rejected": int(len(rejects[["source", "line"]].drop_duplicates())),
               "clean_hours": round(sum(row["duration"] for row in clean) / 3600, 4),
               "reasons": rejects["problem"].str.split(":").str[0].value_counts().to_dict()}
    return clean, rejects, summary


def check_rejects(clean: list[dict[str, Any]], rejects: pd.DataFrame, summary: dict[str, Any],
                  params: dict[str, Any]) -> list[dict[str, Any]]:
    """Stop when more rows were rejected than ``max_reject_fraction``; else pass the clean rows on."""
    check_reject_threshold(summary["rows_read"], rejects, float(_data_params(params)["max_reject_fraction"]))
    return clean


def split_transcripts(rows: list[dict[str, Any]], params: dict[str, Any]
                      ) -> tuple[dict[str, list[dict[str, Any]]], list[dict], list[dict], list[dict]]:
    """A deterministic train/validation/test split (splits given with the data are kept).

    Returns:
        The splits, and the same rows as three NeMo manifests (train, validation, test).
    """
    split = over_defaults(_data_params(params)["split"], DATA_DEFAULTS["split"], "parakeet_finetune.data.split")
    splits = split_rows(rows, split["fractions"], seed=int(split["seed"]))
    empty = [name for name, part in splits.items() if not part]
    if empty:
        raise ValueError(f"split {empty} came out empty ({len(rows)} clean rows): add data or change "
                         f"parakeet_finetune.data.split.fractions")
    logger.info("Split: %s", {name: len(part) for name, part in splits.items()})
    return splits, splits["train"], splits["validation"], splits["test"]


# --- starting model ----------------------------------------------------------------------


def prepare_start_model(base: dict[str, Any], base_card: dict[str, Any], splits: dict[str, list[dict]]
                        ) -> dict[str, Any]:
    """The checkpoint fine-tuning starts from: the base, with a tokenizer retrained on the
    training text if ``tokenizer: adapt`` (its decoder and joint are then new).

    A pretrained name is saved as a local ``.nemo`` once, so every trial restores from disk.

    Returns:
        A card: ``nemo`` (the path trials restore), ``source``, ``tokenizer`` and
        ``vocab_size``, ``model_class``.
    """
    base = _base_params(base)
    source = base_source(base, base_card)
    start_dir = Path(base["start_dir"])
    needs_copy = base["tokenizer"] == "adapt" or not Path(source).is_file()
    model = load_base(source)
    nemo = source
    if base["tokenizer"] == "adapt":
        adapt_tokenizer(model, [row["text"] for row in splits["train"]], start_dir / "tokenizer",
                        int(base["vocab_size"]), base["tokenizer_kind"])
    if needs_copy:
        nemo = str(save_nemo(model, start_dir / "start.nemo"))
    vocab = model.tokenizer.vocab_size if hasattr(model, "tokenizer") else len(model.cfg.labels)
    return {"nemo": nemo, "source": source, "tokenizer": base["tokenizer"], "vocab_size": int(vocab),
            "model_class": type(model).__name__, "parameters": sum(p.numel() for p in model.parameters())}


# --- evaluation --------------------------------------------------------------------------


def _score(model: nn.Module, rows: list[dict[str, Any]], batch_size: int) -> tuple[pd.DataFrame, dict[str, float]]:
    result = measure(model, rows, batch_size=batch_size)
    table = utterance_table(rows, result["hypotheses"])
    speed = {"rtfx": result["rtfx"], "audio_seconds": result["audio_seconds"],
             "inference_seconds": result["inference_seconds"]}
    return table, speed


def evaluate_base(base: dict[str, Any], base_card: dict[str, Any], splits: dict[str, list[dict]],
                  params: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, float]]:
    """The base model (before any fine-tuning, its own tokenizer) on the held-out test split."""
    params = over_defaults(params, EVALUATE_DEFAULTS, "parakeet_finetune.evaluate")
    return _score(_load(base, base_card), splits["test"], int(params["batch_size"]))


def evaluate_finetuned(model: nn.Module, splits: dict[str, list[dict]], params: dict[str, Any]
                       ) -> tuple[pd.DataFrame, dict[str, float]]:
    """The fine-tuned model on the held-out test split: per-utterance table and speed."""
    params = over_defaults(params, EVALUATE_DEFAULTS, "parakeet_finetune.evaluate")
    return _score(model, splits["test"], int(params["batch_size"]))


def summarize_finetuning(base_table: pd.DataFrame, base_speed: dict[str, float], tuned_table: pd.DataFrame,
                         tuned_speed: dict[str, float], history: pd.DataFrame, params: dict[str, Any]
                         ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], Figure, Figure, Figure]:
    """Before/after results, the fine-tuned model's most frequent errors, metrics and plots.

    Returns:
        Results table (model, wer, cer, rtfx...), error counts, MLflow metrics, the WER
        comparison figure, the top-errors figure and the training curves.
    """
    params = over_defaults(params, EVALUATE_DEFAULTS, "parakeet_finetune.evaluate")
    rows = []
    for label, table, speed in (("base", base_table, base_speed), ("fine-tuned", tuned_table, tuned_speed)):
        rows.append({"model": label, **error_summary(table), **speed})
    results = pd.DataFrame(rows)
    counts = error_counts(tuned_table["reference"].tolist(), tuned_table["hypothesis"].fillna("").tolist(),
                          top=int(params["top_errors"]))
    metrics = {}
    for row in rows:
        prefix = "base" if row["model"] == "base" else "finetuned"
        for key in ("wer", "cer", "rtfx", "sentence_error_rate", "substitutions", "deletions", "insertions"):
            metrics[f"{prefix}_test_{key}"] = {"value": float(row[key]), "step": 0}
    metrics["test_utterances"] = {"value": float(len(tuned_table)), "step": 0}
    logger.info("Test WER: base %.3f -> fine-tuned %.3f (CER %.3f -> %.3f)", rows[0]["wer"], rows[1]["wer"],
                rows[0]["cer"], rows[1]["cer"])
    # word_errors and words only exist to compute the exact corpus WER; they are not curves to read.
    shown = history.drop(columns=[c for c in history.columns if c.endswith(("_word_errors", "_words"))])
    curves = training_curves({"fine-tuning": shown}) if len(history) else _empty_figure("no training history")
    return (results, counts, metrics, wer_comparison_figure(results),
            top_errors_figure(counts, top=int(params["top_errors"]), title="Fine-tuned model: most frequent errors"),
            curves)


def _empty_figure(text: str) -> Figure:
    figure = Figure(figsize=(4, 2))
    figure.text(0.5, 0.5, text, ha="center", va="center")
    return figure


# --- explain -------------------------------------------------------------------------------

EXPLAIN_DEFAULTS: dict[str, Any] = {"utterances": 3, "seed": 0, "deletion_fraction": 0.2}


def explain_finetuned(model: nn.Module, splits: dict[str, list[dict]], params: dict[str, Any]
                      ) -> tuple[pd.DataFrame, Figure, dict[str, Any]]:
    """Gradient x input over the log-mel spectrogram of a few test utterances: which
    time-frequency cells raise the log-likelihood of the model's own transcript.

    Faithfulness check per utterance: the log-likelihood after blanking the most
    attributed 20% of frames, against blanking as many random frames.

    Returns:
        The per-utterance table, the attribution figure, and MLflow metrics (mean
        log-likelihood drop for top and for random frames).
    """
    from dl_roadmap.asr.explain import attribution_figure, explain_utterances

    params = over_defaults(params, EXPLAIN_DEFAULTS, "parakeet_finetune.explain")
    items, table = explain_utterances(model, splits["test"], count=int(params["utterances"]), seed=int(params["seed"]),
                                      fraction=float(params["deletion_fraction"]))
    top_drop = (table["log_likelihood"] - table["ll_top_removed"]).mean()
    random_drop = (table["log_likelihood"] - table["ll_random_removed"]).mean()
    logger.info("Blanking the top %.0f%% attributed frames lowers the log-likelihood by %.2f on average "
                "(random frames: %.2f)", 100 * params["deletion_fraction"], top_drop, random_drop)
    metrics = {"explain_ll_drop_top_frames": {"value": float(top_drop), "step": 0},
               "explain_ll_drop_random_frames": {"value": float(random_drop), "step": 0}}
    return table, attribution_figure(items, title="Gradient x input on the log-mel spectrogram"), metrics
