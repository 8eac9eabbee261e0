"""Nodes of parakeet_base: demo corpus -> tokenizer -> small TDT model trained on domain A.

Both nodes are cached: the corpus folder records the parameters that made it, and the
model folder (``model_dir``) holds ``base.nemo`` with a ``card.json`` that records a
fingerprint of everything the model was made from. A later run with the same fingerprint
reuses them (``retrain: true`` forces a new model); otherwise a new model replaces the old
one, and the card is written last, so an interrupted training never leaves a card that
points at a half-made model.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dl_roadmap.asr.build import build_parakeet
from dl_roadmap.asr.corpus import synthesize_corpus
from dl_roadmap.asr.data import AudioTextDataset, audio_loader
from dl_roadmap.asr.finetune import OFFLINE
from dl_roadmap.asr.manifest import read_nemo_manifest
from dl_roadmap.asr.measure import measure
from dl_roadmap.asr.model_io import save_nemo
from dl_roadmap.asr.step import asr_step
from dl_roadmap.asr.tokenizer import train_tokenizer
from dl_roadmap.core.files import atomic_write
from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit, fit_config

logger = logging.getLogger(__name__)

BASE_DEFAULTS: dict[str, Any] = {
    "corpus": {},
    "model_dir": "data/06_models/parakeet_base",  # conf sets it under the data root
    "validation_utterances": 20,
    "tokenizer": {"vocab_size": 32, "kind": "bpe"},
    "model": {},
    "fit": {},
    "eval_batch_size": 8,
    "retrain": False,
}


def synthesize_demo_corpus(params: dict[str, Any]) -> dict[str, str]:
    """Speak the demo corpus (or reuse the one these parameters made).

    Args:
        params: ``dir`` (the corpus folder) and ``asr.corpus`` parameters (voices, sizes).

    Returns:
        Manifest paths: ``domain_a``, ``domain_a_test``, ``domain_b``, ``domain_b_test``.
    """
    params = dict(params)
    folder = params.pop("dir", "data/01_raw/parakeet_demo")  # conf sets it under the data root
    return synthesize_corpus(folder, params)


def train_offline_base(corpus: dict[str, str], params: dict[str, Any], trainer: dict[str, Any],
                       start_source: str) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any]]:
    """Train the small base on domain A (tokenizer included), or reuse the cached one.

    Args:
        corpus: manifests from ``synthesize_demo_corpus``.
        params: the ``parakeet_base`` block (``BASE_DEFAULTS``).
        trainer: the shared trainer block.
        start_source: ``parakeet_finetune.base.source``; anything but ``"offline"`` means
            fine-tuning starts from another model, so none is trained here.

    Returns:
        The base card (``nemo`` path, fingerprint, WERs on both domains' test sets), the
        training history, and MLflow metrics.
    """
    params = over_defaults(params, BASE_DEFAULTS, "parakeet_base")
    if str(start_source) != OFFLINE:
        logger.info("parakeet_finetune.base.source is %r: the offline base is not needed, not training it",
                    start_source)
        return {"nemo": None, "skipped": f"fine-tuning starts from {start_source}"}, pd.DataFrame(), {}
    folder = Path(params["model_dir"])
    fingerprint = _fingerprint(params, corpus)
    cached = _cached_card(folder, fingerprint)
    if cached is not None and not params["retrain"]:
        logger.info("Reusing the offline base %s (same parameters and corpus; parakeet_base.retrain=true "
                    "trains a new one)", cached["nemo"])
        return cached, pd.read_csv(folder / "history.csv"), _metrics(cached)

    train_rows, val_rows = _split_domain_a(corpus["domain_a"], int(params["validation_utterances"]))
    tokenizer = train_tokenizer([row["text"] for row in train_rows], folder / "tokenizer",
                                **params["tokenizer"])
    model = build_parakeet(params["model"], tokenizer)
    fit_params = fit_config({"monitor": "val_wer", "mode": "min", **params["fit"]})
    batch_size, seed = fit_params["batch_size"], fit_params["seed"]
    result = fit(model, audio_loader(AudioTextDataset(train_rows), batch_size, True, seed=seed),
                 audio_loader(AudioTextDataset(val_rows), batch_size, False), step=asr_step, name="base",
                 fit_params=fit_params, trainer_params=trainer)
    scores = {f"base_{name}_wer": measure(result.model, corpus[name], batch_size=params["eval_batch_size"])["wer"]
              for name in ("domain_a_test", "domain_b_test")}
    save_nemo(result.model, folder / "base.nemo")
    nemo = folder / "base.nemo"  # as configured (relative to the project), so the card survives a move
    result.history.to_csv(folder / "history.csv", index=False)
    card = {"nemo": str(nemo), "fingerprint": fingerprint, "parameters": sum(p.numel() for p in result.model.parameters()),
            "train_utterances": len(train_rows), "validation_utterances": len(val_rows),
            "fit_seconds": round(result.seconds, 1), **scores}
    with atomic_write(folder / "card.json") as partial:
        Path(partial).write_text(json.dumps(card, indent=2))
    logger.info("Offline base: %s parameters, test WER %.3f on domain A and %.3f on domain B",
                card["parameters"], scores["base_domain_a_test_wer"], scores["base_domain_b_test_wer"])
    return card, result.history, _metrics(card)


def _split_domain_a(manifest: str, n_val: int) -> tuple[list[dict], list[dict]]:
    rows = read_nemo_manifest(manifest)
    broken = [row for row in rows if "error" in row]
    if broken:
        raise ValueError(f"{manifest}: line {broken[0]['line']}: {broken[0]['error']}")
    if not 0 < n_val < len(rows):
        raise ValueError(f"parakeet_base.validation_utterances: between 1 and {len(rows) - 1}, got {n_val}")
    order = np.random.default_rng(0).permutation(len(rows))
    return [rows[i] for i in sorted(order[n_val:])], [rows[i] for i in sorted(order[:n_val])]


def _fingerprint(params: dict[str, Any], corpus: dict[str, str]) -> str:
    """Parameters that shape the model, plus the corpus's own record of how it was made."""
    shaping = {key: value for key, value in params.items() if key not in ("retrain", "eval_batch_size", "model_dir")}
    stamp = Path(corpus["domain_a"]).parents[1] / "corpus.json"
    recipe = stamp.read_text() if stamp.is_file() else json.dumps(corpus, sort_keys=True)
    key = json.dumps([shaping, recipe], sort_keys=True, default=str)
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def _cached_card(folder: Path, fingerprint: str) -> dict[str, Any] | None:
    card_path = folder / "card.json"
    if not card_path.is_file():
        return None
    try:
        card = json.loads(card_path.read_text())
    except json.JSONDecodeError:
        return None
    if card.get("fingerprint") != fingerprint or not Path(card.get("nemo", "")).is_file() \
            or not (folder / "history.csv").is_file():
        return None
    return card


def _metrics(card: dict[str, Any]) -> dict[str, Any]:
    names = ("base_domain_a_test_wer", "base_domain_b_test_wer", "parameters", "fit_seconds")
    return metrics_for_mlflow({name: card[name] for name in names if name in card})
