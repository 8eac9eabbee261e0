"""Input attribution over the mel spectrogram (dl_roadmap.asr.attribution and explain): the
attribution is gradient x input of the transcript's log-likelihood (checked against an
independent autograd computation and finite differences), the log-likelihood is minus the
loss, the model is left as it was, and the deletion check, figure and multi-utterance
helper return what they say.

Untrained tiny models (1 FastConformer layer, d_model 32) on short synthetic clips: the
maths does not need a trained model."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch

from dl_roadmap.asr.audio import write_wav
from dl_roadmap.asr.attribution import attribute_utterance, features_of, log_likelihood
from dl_roadmap.asr.explain import (
    DELETION_COLUMNS,
    TABLE_COLUMNS,
    attribution_figure,
    deletion_check,
    explain_utterances,
    pick_rows,
)
from dl_roadmap.asr.tdt_reference import tdt_loss_reference
from dl_roadmap.asr.tokenizer import train_tokenizer
from dl_roadmap.asr.transcribe import transcribe
from tests.asr.tiny import tiny_models

TEXTS = ["turn the red light on", "switch off the fan in the kitchen", "set the hall heater to five",
         "open the garden door", "dim the blue lamp to three"]
TARGET = "turn the light on"

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    return train_tokenizer(TEXTS, tmp_path_factory.mktemp("tokenizer"), vocab_size=40)


@pytest.fixture(scope="module")
def models(nemo_asr, tokenizer_dir):
    """One tiny model per head, built on first use; max_symbols 3 keeps an untrained
    model's own transcript short."""
    return tiny_models(tokenizer_dir, max_symbols=3)


@pytest.fixture(scope="module")
def wavs(tmp_path_factory):
    """Four clips (0.6 to 1.2 s): a gliding tone in noise, with a silent gap in the middle."""
    folder = tmp_path_factory.mktemp("wavs")
    rng = np.random.default_rng(0)
    paths = []
    for i, seconds in enumerate((0.8, 0.6, 1.0, 1.2)):
        t = np.arange(int(16000 * seconds)) / 16000
        tone = 0.3 * np.sin(2 * np.pi * (300 + 400 * i + 500 * t) * t)
        tone[len(t) // 2 - 1600: len(t) // 2] = 0.0
        paths.append(write_wav(folder / f"u{i}.wav", tone + 0.02 * rng.standard_normal(len(t))))
    return paths


def independent_score(model, features, token_ids):
    """log P(tokens | features) and its gradient, computed without the module under test:
    NeMo's forward path for the joint, and the reference TDT loss, a plain RNN-T forward
    recursion, or NeMo's CTC loss."""
    x = torch.tensor(features)[None].requires_grad_(True)
    targets = torch.tensor([token_ids], dtype=torch.long)
    target_len = torch.tensor([len(token_ids)])
    was_training = model.training
    model.eval()
    try:
        encoded, encoded_len = model.encoder(audio_signal=x, length=torch.tensor([x.shape[-1]]))
        if not hasattr(model, "joint"):
            log_probs = model.decoder(encoder_output=encoded)
            score = -model.loss(log_probs=log_probs, targets=targets, input_lengths=encoded_len,
                                target_lengths=target_len)
        else:
            decoder_out, _, _ = model.decoder(targets=targets, target_length=target_len)
            joint = model.joint(encoder_outputs=encoded, decoder_outputs=decoder_out)
            inner = model.loss._loss
            if hasattr(inner, "durations"):  # TDT
                score = -tdt_loss_reference(joint, targets, encoded_len, target_len, inner.durations, inner.blank,
                                            sigma=inner.sigma, omega=0.0, reduction="none")[0]
            else:
                blank = model.joint.num_classes_with_blank - 1
                score = rnnt_log_likelihood(joint[0, : int(encoded_len[0])], token_ids, blank)
        (gradient,) = torch.autograd.grad(score, x)
    finally:
        model.train(was_training)
    return float(score.detach()), gradient[0].numpy()


def rnnt_log_likelihood(joint, tokens, blank):
    """Standard RNN-T forward recursion for one utterance: joint (T, U+1, V+1)."""
    lp = torch.log_softmax(joint.double(), dim=-1)
    frames, rows = lp.shape[0], len(tokens) + 1
    alpha = [[None] * rows for _ in range(frames)]
    for t in range(frames):
        for u in range(rows):
            terms = [torch.zeros((), dtype=torch.float64)] if t == u == 0 else []
            if t > 0:
                terms.append(alpha[t - 1][u] + lp[t - 1, u, blank])
            if u > 0:
                terms.append(alpha[t][u - 1] + lp[t, u - 1, tokens[u - 1]])
            alpha[t][u] = torch.logsumexp(torch.stack(terms), dim=0)
    return alpha[-1][-1] + lp[-1, -1, blank]


# ------------------------------------------------------------------------ attribution


@pytest.mark.parametrize("kind", ["tdt", "rnnt", "ctc"])
def test_attribution_is_gradient_times_input_of_the_log_likelihood(kind, models, wavs):
    """Shapes match the features; log_likelihood is minus the loss and the gradient is the
    one of an independent computation; attribution = gradient * features; frame mass is
    the per-frame sum of |attribution|."""
    model = models(kind)
    item = attribute_utterance(model, wavs[0], hypothesis=TARGET)
    features = item["features"]
    assert features.shape == features_of(model, wavs[0]).shape == item["attribution"].shape
    assert features.shape[0] == 80 and features.shape[1] == 80  # 0.8 s at 10 ms
    assert np.isfinite(item["attribution"]).all() and np.abs(item["attribution"]).sum() > 0
    assert item["head"] == ("ctc" if kind == "ctc" else "transducer") and item["note"] is None
    assert item["token_ids"] == model.tokenizer.text_to_ids(TARGET)
    assert item["tokens"] == model.tokenizer.ids_to_tokens(item["token_ids"]) and item["hypothesis"] == TARGET

    score, gradient = independent_score(model, features, item["token_ids"])
    assert item["log_likelihood"] < 0
    assert item["log_likelihood"] == pytest.approx(score, rel=1e-4)
    np.testing.assert_allclose(item["gradient"], gradient, rtol=1e-3, atol=1e-5 * np.abs(gradient).max())
    np.testing.assert_array_equal(item["attribution"], item["gradient"] * features)
    np.testing.assert_allclose(item["frame_mass"], np.abs(item["attribution"]).sum(axis=0), rtol=1e-6)
    assert log_likelihood(model, features, item["token_ids"]) == pytest.approx(item["log_likelihood"], rel=1e-5)


@pytest.mark.parametrize("kind", ["tdt", "ctc"])
def test_gradient_matches_finite_differences(kind, models, wavs):
    """The directional derivative of log_likelihood along the gradient, by central
    differences, is the gradient's norm; along a random direction for CTC (float32
    differences of the TDT lattice are too noisy for a random direction)."""
    model = models(kind)
    item = attribute_utterance(model, wavs[2], hypothesis="on")
    features, gradient = item["features"].astype(np.float64), item["gradient"].astype(np.float64)
    tokens = item["token_ids"]
    directions = [gradient / np.linalg.norm(gradient)]
    if kind == "ctc":
        random_direction = np.random.default_rng(3).standard_normal(gradient.shape)
        directions.append(random_direction / np.linalg.norm(random_direction))
    eps = 1e-2
    for direction in directions:
        slope = (log_likelihood(model, features + eps * direction, tokens)
                 - log_likelihood(model, features - eps * direction, tokens)) / (2 * eps)
        expected = float((gradient * direction).sum())
        assert slope == pytest.approx(expected, rel=0.02, abs=1e-3)


def test_model_parameters_grads_and_modes_are_left_alone(models, wavs):
    """No parameter gets a .grad (and an existing one is unchanged); every submodule's
    train/eval flag, TDT's omega and the loss reduction are what they were."""
    model = models("tdt")
    model.train()
    model.encoder.eval()  # as a frozen encoder inside a training model
    model.zero_grad(set_to_none=True)
    first = next(model.joint.parameters())
    first.grad = torch.full_like(first, 0.5)
    modes = {name: module.training for name, module in model.named_modules()}
    omega, reduction = model.loss._loss.omega, model.loss.reduction
    try:
        item = attribute_utterance(model, wavs[1])
        assert np.isfinite(item["log_likelihood"])
        assert {name: module.training for name, module in model.named_modules()} == modes
        assert all(p.grad is None for p in model.parameters() if p is not first)
        assert torch.equal(first.grad, torch.full_like(first, 0.5))
        assert model.loss._loss.omega == omega > 0 and model.loss.reduction == reduction
    finally:
        model.zero_grad(set_to_none=True)
        model.train()


@pytest.mark.parametrize("kind", ["tdt", "rnnt"])
def test_own_hypothesis_is_what_transcribe_outputs(kind, models, wavs):
    """With hypothesis=None the target is the model's greedy output (the text transcribe
    gives) and the score is that of exactly those tokens; repeated calls agree."""
    model = models(kind)
    item = attribute_utterance(model, wavs[0], reference="turn the red light on")
    assert item["hypothesis"] == transcribe(model, wavs[0])[0]
    assert item["hypothesis"] == " ".join(model.tokenizer.ids_to_text(item["token_ids"]).split())
    assert len(item["tokens"]) == len(item["token_ids"]) > 0 and item["reference"] == "turn the red light on"
    again = attribute_utterance(model, wavs[0])
    assert again["token_ids"] == item["token_ids"]
    np.testing.assert_array_equal(again["attribution"], item["attribution"])
    assert log_likelihood(model, item["features"], item["token_ids"]) == pytest.approx(item["log_likelihood"], rel=1e-5)


def test_ctc_own_hypothesis_is_greedy_ctc(models, wavs):
    """CTC: frame-wise argmax with repeats merged and blanks dropped."""
    model = models("ctc")
    item = attribute_utterance(model, wavs[3])
    model.eval()
    try:
        with torch.no_grad():
            x = torch.tensor(item["features"])[None]
            encoded, _ = model.encoder(audio_signal=x, length=torch.tensor([x.shape[-1]]))
            best = model.decoder(encoder_output=encoded)[0].argmax(-1).tolist()
    finally:
        model.train()
    blank = model.decoder.num_classes_with_blank - 1
    expected = [b for i, b in enumerate(best) if b != blank and (i == 0 or b != best[i - 1])]
    assert item["token_ids"] == expected and item["head"] == "ctc"
    assert np.isfinite(item["log_likelihood"]) and np.isfinite(item["attribution"]).all()


def test_empty_and_impossible_targets(models, wavs):
    """An empty target is scored as 'emit nothing' (finite, with a note); a CTC target
    longer than the frames allow gives -inf, zero attribution and a note."""
    tdt = models("tdt")
    empty = attribute_utterance(tdt, wavs[1], hypothesis="  ")
    assert empty["token_ids"] == [] and empty["tokens"] == [] and empty["hypothesis"] == ""
    assert "empty hypothesis" in empty["note"] and -1e4 < empty["log_likelihood"] < 0
    assert np.isfinite(empty["attribution"]).all() and empty["attribution"].shape == empty["features"].shape
    score, _ = independent_score(tdt, empty["features"], [])
    assert empty["log_likelihood"] == pytest.approx(score, rel=1e-4)

    ctc = models("ctc")
    too_long = " ".join(TEXTS)  # far more tokens than 0.6 s gives CTC frames
    item = attribute_utterance(ctc, wavs[1], hypothesis=too_long)
    assert item["log_likelihood"] == float("-inf") and "no alignment" in item["note"]
    assert not item["attribution"].any()


def test_hybrid_scores_the_head_it_decodes_with(models, wavs):
    """A hybrid is explained through its transducer head unless it decodes with CTC."""
    model = models("hybrid_tdt_ctc")
    transducer = attribute_utterance(model, wavs[0], hypothesis=TARGET)
    assert transducer["head"] == "transducer"
    model.cur_decoder = "ctc"
    try:
        ctc = attribute_utterance(model, wavs[0], hypothesis=TARGET)
    finally:
        model.cur_decoder = "rnnt"
    assert ctc["head"] == "ctc" and np.isfinite(ctc["log_likelihood"])
    assert ctc["log_likelihood"] != pytest.approx(transducer["log_likelihood"])


# ------------------------------------------------------------------------ deletion check


def test_deletion_check(models, wavs):
    """Expected columns and fractions; the original log-likelihood is the item's; removing
    all frames gives the same result for top and random frames (every frame becomes the
    utterance mean); the random draws are seeded."""
    model = models("tdt")
    item = attribute_utterance(model, wavs[2], hypothesis=TARGET)
    table = deletion_check(model, item)
    assert list(table.columns) == list(DELETION_COLUMNS)
    assert table["fraction"].tolist() == [0.1, 0.2, 0.3]
    assert table["frames_removed"].tolist() == [10, 20, 30]  # 100 frames
    assert np.allclose(table["ll_original"], item["log_likelihood"], rtol=1e-5)
    assert np.isfinite(table[["ll_top_removed", "ll_random_removed"]].to_numpy()).all()
    pd.testing.assert_frame_equal(table, deletion_check(model, item))
    other_seed = deletion_check(model, item, seed=1)
    assert not np.allclose(other_seed["ll_random_removed"], table["ll_random_removed"])
    np.testing.assert_array_equal(other_seed["ll_top_removed"], table["ll_top_removed"])

    everything = deletion_check(model, item, fractions=(1.0,), random_draws=1).iloc[0]
    flat = np.repeat(item["features"].mean(axis=1, keepdims=True), item["features"].shape[1], axis=1)
    expected = log_likelihood(model, flat, item["token_ids"])
    assert everything["frames_removed"] == 100
    assert everything["ll_top_removed"] == pytest.approx(expected, rel=1e-5)
    assert everything["ll_random_removed"] == pytest.approx(expected, rel=1e-5)

    # The top frames are those with the largest mass: removing the single top frame
    # changes the score exactly as replacing that frame by hand does.
    one = deletion_check(model, item, fractions=(0.01,), random_draws=1).iloc[0]
    top = int(np.argmax(item["frame_mass"]))
    changed = item["features"].copy()
    changed[:, top] = item["features"].mean(axis=1)
    assert one["frames_removed"] == 1
    assert one["ll_top_removed"] == pytest.approx(log_likelihood(model, changed, item["token_ids"]), rel=1e-6)
    with pytest.raises(ValueError, match="fractions"):
        deletion_check(model, item, fractions=(0.0,))


# ------------------------------------------------------------------------ figure and table


def test_attribution_figure(models, wavs):
    """Two axes per item; time in seconds; the attribution's colour limits are symmetric
    around 0; titles carry the hypothesis and the reference; the figure renders."""
    model = models("tdt")
    items = [attribute_utterance(model, wavs[0], hypothesis=TARGET, reference="turn the red light on"),
             attribute_utterance(model, wavs[3], hypothesis="")]
    figure = attribution_figure(items, title="tiny model")
    assert len(figure.axes) == 4
    for row, item in enumerate(items):
        spectrogram, attributed = figure.axes[2 * row], figure.axes[2 * row + 1]
        seconds = item["features"].shape[1] * 0.01
        assert spectrogram.get_xlim() == pytest.approx((0.0, seconds))
        assert attributed.get_xlim() == pytest.approx((0.0, seconds)) and attributed.get_xlabel() == "time (s)"
        low, high = attributed.images[0].get_clim()
        assert low == pytest.approx(-high) and high == pytest.approx(np.abs(item["attribution"]).max())
        assert attributed.images[0].get_cmap().name == "RdBu_r"
    assert "hyp: turn the light on" in figure.axes[0].get_title(loc="left")
    assert "ref: turn the red light on" in figure.axes[0].get_title(loc="left")
    assert "(empty)" in figure.axes[2].get_title(loc="left") and "ref:" not in figure.axes[2].get_title(loc="left")
    assert figure._suptitle.get_text() == "tiny model"
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="no items"):
        attribution_figure([])


def test_explain_utterances(models, wavs):
    """count rows picked deterministically (in manifest order); one item and one table row
    each, with the references and the deletion check at 0.2."""
    model = models("tdt")
    rows = [{"audio_filepath": str(path), "text": text} for path, text in zip(wavs, TEXTS)]
    picked = pick_rows(rows, 2, seed=0)
    assert picked == pick_rows(rows, 2, seed=0) and len(picked) == 2
    assert [rows.index(row) for row in picked] == sorted(rows.index(row) for row in picked)
    assert pick_rows(rows, 10) == rows

    items, table = explain_utterances(model, rows, count=2, seed=0)
    assert list(table.columns) == list(TABLE_COLUMNS) and len(items) == len(table) == 2
    assert table["audio_filepath"].tolist() == [row["audio_filepath"] for row in picked]
    assert table["reference"].tolist() == [row["text"] for row in picked]
    assert table["hypothesis"].tolist() == [item["hypothesis"] for item in items]
    assert table["log_likelihood"].tolist() == [item["log_likelihood"] for item in items]
    assert (table["deletion_fraction"] == 0.2).all()
    check = deletion_check(model, items[0], fractions=(0.2,), seed=0).iloc[0]
    assert table.loc[0, "ll_top_removed"] == pytest.approx(check["ll_top_removed"])
    assert table.loc[0, "ll_random_removed"] == pytest.approx(check["ll_random_removed"])
    assert all(item["reference"] == row["text"] for item, row in zip(items, picked))
