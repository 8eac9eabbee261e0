"""The training step in evaluation mode, and the exact corpus WER (dl_roadmap.asr.step)."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from dl_roadmap.asr.step import asr_step, corpus_wer
from tests.asr.samples import BATCH_TEXTS
from tests.asr.tiny import make_batch


def test_corpus_wer_is_the_ratio_of_the_per_utterance_means():
    history = pd.DataFrame({"val_word_errors": [1.0, 0.5], "val_words": [4.0, 5.0]})
    assert corpus_wer(history).tolist() == [0.25, 0.1]


def test_asr_step_in_eval_mode_scores_words(tdt_model):
    """Evaluation adds the batch WER and per-utterance word errors and reference words."""
    batch = make_batch(tdt_model)
    tdt_model.eval()
    try:
        with torch.no_grad():
            out = asr_step(tdt_model, batch)
    finally:
        tdt_model.train()
    assert {"loss", "wer", "word_errors", "words"} <= set(out)
    reference_words = sum(len(text.split()) for text in BATCH_TEXTS)
    assert float(out["words"]) == pytest.approx(reference_words / 2)
    assert float(out["word_errors"]) >= 0 and torch.isfinite(out["loss"])
    torch.testing.assert_close(out["wer"], out["word_errors"] / out["words"])
