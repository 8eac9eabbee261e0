"""Tests for fine-tuning pieces: audio-text batches, batching by duration, tokenization in
the step, the fine-tuning config, SpecAugment from parameters, freezing the encoder for N
steps, the tokenizer's character set, and the StageTask loader/callback hooks."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from dl_roadmap.asr.audio import write_wav
from dl_roadmap.asr.data import (
    AudioTextDataset,
    DurationBatchSampler,
    audio_loader,
    collate_audio_text,
    tokenize_texts,
)
from dl_roadmap.asr.finetune import (
    ASR_TASK,
    FreezeEncoderFor,
    finetune_callbacks,
    finetune_config,
    set_spec_augment,
    tokenizer_characters,
)
from dl_roadmap.asr.model import asr_step, build_parakeet, train_tokenizer
from tests.asr.tiny import TINY

TEXTS = ["turn the red light on", "open the door", "move the box left", "pick up the cup",
         "set the fan to five", "close the window"]


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(0)
    out = []
    for i, text in enumerate(TEXTS):
        seconds = 0.4 + 0.2 * i
        path = write_wav(folder / f"{i}.wav", 0.1 * rng.standard_normal(int(16000 * seconds)))
        out.append({"audio_filepath": str(path), "text": text, "duration": seconds})
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    tokenizer = train_tokenizer(TEXTS * 3, tmp_path_factory.mktemp("tok"), vocab_size=30)
    return build_parakeet(TINY, tokenizer)


# ------------------------------------------------------------------ batches


def test_dataset_and_collate_pad_to_the_longest(rows):
    dataset = AudioTextDataset(rows)
    signal, lengths, texts = collate_audio_text([dataset[0], dataset[3]])
    assert lengths.tolist() == [6400, 16000] and signal.shape == (2, 16000)
    assert texts == [TEXTS[0], TEXTS[3]]
    assert torch.all(signal[0, 6400:] == 0) and signal[0, :6400].abs().sum() > 0
    with pytest.raises(KeyError, match="row 1 has no 'text'"):
        AudioTextDataset([rows[0], {"audio_filepath": "x.wav"}])


def test_duration_batches_cover_every_clip_once_and_group_similar_lengths():
    durations = list(np.random.default_rng(1).uniform(0.5, 10, size=103))
    sampler = DurationBatchSampler(durations, batch_size=8, shuffle=True, seed=3, window=4)
    first, second = list(sampler), list(sampler)
    for epoch in (first, second):
        assert sorted(i for batch in epoch for i in batch) == list(range(103))
        assert len(epoch) == len(sampler)
    assert first != second, "a new order every epoch"
    assert list(DurationBatchSampler(durations, 8, seed=3, window=4)) == first, "same seed, same order"
    # Sorting inside windows leaves less padding than random batches of the same size.
    def padding(batches):
        return sum(max(durations[i] for i in b) * len(b) - sum(durations[i] for i in b) for b in batches)
    random_batches = [list(range(i, min(i + 8, 103))) for i in range(0, 103, 8)]
    assert padding(first) < 0.5 * padding(random_batches)


def test_duration_cap_limits_seconds_per_batch():
    durations = [1.0] * 20 + [5.0] * 4
    batches = list(DurationBatchSampler(durations, batch_size=10, shuffle=False, max_batch_seconds=4.0, window=10))
    assert all(sum(durations[i] for i in b) <= 4.0 or len(b) == 1 for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(24))
    with pytest.raises(ValueError, match="max_batch_seconds"):
        DurationBatchSampler(durations, 4, max_batch_seconds=0)


def test_audio_loader_batches(rows):
    loader = audio_loader(AudioTextDataset(rows), batch_size=4, shuffle=False, bucketing=True)
    batches = list(loader)
    assert sum(len(b[2]) for b in batches) == len(rows)
    plain = list(audio_loader(AudioTextDataset(rows), batch_size=4, shuffle=False, bucketing=False))
    assert [b[2] for b in plain] == [TEXTS[:4], TEXTS[4:]]


def test_tokenize_texts_matches_the_tokenizer(tiny_model):
    tokens, lengths = tokenize_texts(tiny_model, ["open the door", "turn the red light on"])
    for row, text in enumerate(["open the door", "turn the red light on"]):
        ids = tiny_model.tokenizer.text_to_ids(text)
        assert lengths[row] == len(ids) and tokens[row, : len(ids)].tolist() == ids
        assert torch.all(tokens[row, len(ids):] == 0)


def test_step_on_text_batches_equals_step_on_token_batches(tiny_model, rows):
    signal, lengths, texts = collate_audio_text([AudioTextDataset(rows)[i] for i in range(3)])
    tokens, token_lengths = tokenize_texts(tiny_model, texts)
    tiny_model.eval()
    with torch.no_grad():  # TDT's omega draws the loss kind at random: same draw for both
        random.seed(0)
        from_text = asr_step(tiny_model, (signal, lengths, texts))
        random.seed(0)
        from_tokens = asr_step(tiny_model, (signal, lengths, tokens, token_lengths))
    assert from_text["loss"].item() == pytest.approx(from_tokens["loss"].item(), rel=1e-5)
    assert from_text["words"].item() == pytest.approx(from_tokens["words"].item())


# ------------------------------------------------------------------ config and model set-up


def test_finetune_config_checks_keys_and_values():
    assert finetune_config({"freeze_encoder_steps": "all"})["freeze_encoder_steps"] == "all"
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['freeze'\]"):
        finetune_config({"freeze": 3})
    with pytest.raises(ValueError, match="freeze_encoder_steps: a step count >= 0 or 'all', got -2"):
        finetune_config({"freeze_encoder_steps": -2})
    with pytest.raises(ValueError, match=r"spec_augment: unknown key\(s\) \['masks'\]"):
        finetune_config({"spec_augment": {"masks": 2}})
    with pytest.raises(ValueError, match="time_masks must be >= 0"):
        finetune_config({"spec_augment": {"time_masks": -1}})
    assert finetune_callbacks({"freeze_encoder_steps": 0}) == []
    assert finetune_callbacks({"freeze_encoder_steps": "all"}) == []
    assert isinstance(finetune_callbacks({"freeze_encoder_steps": 5})[0], FreezeEncoderFor)


def test_set_spec_augment_replaces_removes_and_keeps(tiny_model):
    set_spec_augment(tiny_model, {"freq_masks": 1, "time_masks": 3, "freq_width": 5, "time_width": 0.1})
    assert tiny_model.spec_augmentation is not None
    assert tiny_model.cfg.spec_augment.time_masks == 3 and tiny_model.cfg.spec_augment.freq_width == 5
    kept = tiny_model.spec_augmentation
    set_spec_augment(tiny_model, None)
    assert tiny_model.spec_augmentation is kept
    set_spec_augment(tiny_model, {"freq_masks": 0, "time_masks": 0})
    assert tiny_model.spec_augmentation is None and tiny_model.cfg.spec_augment is None


def test_tokenizer_characters(tiny_model):
    characters = tokenizer_characters(tiny_model)
    assert set("".join(TEXTS)) <= characters
    assert not {"<", ">", "\u2581"} & characters


def test_encoder_is_frozen_for_the_first_steps_only(tiny_model, rows, tmp_path):
    """Two epochs of 2 steps with freeze_encoder_steps=2: the encoder is unchanged after the
    first epoch and trained after the second; the decoder trains from the start."""
    from dl_roadmap.core.training import fit

    set_spec_augment(tiny_model, {"freq_masks": 0, "time_masks": 0})
    encoder_before = [p.detach().clone() for p in tiny_model.encoder.parameters()]
    decoder_before = [p.detach().clone() for p in tiny_model.decoder.parameters()]
    seen = []

    class Spy(FreezeEncoderFor):
        def on_train_epoch_end(self, trainer, pl_module):
            seen.append([torch.equal(a, b) for a, b in zip(encoder_before, pl_module.model.encoder.parameters())])

    loader = audio_loader(AudioTextDataset(rows[:4]), batch_size=2, shuffle=False, bucketing=False)
    fit_params = {"max_epochs": 2, "batch_size": 2, "scheduler": {"name": "none"}, "optimizer": {"name": "AdamW", "lr": 0.01},
                  "checkpoint_dir": str(tmp_path), "resume": False, "early_stopping_patience": None}
    spy = Spy(2)
    result = fit(tiny_model, loader, loader, step=asr_step, name="freeze", fit_params=fit_params,
                 trainer_params={"accelerator": "cpu", "progress_bar": False}, callbacks=[spy])
    assert all(seen[0]), "encoder untouched during the frozen steps"
    assert not any(seen[1]), "every encoder tensor trained after unfreezing"
    assert spy.unfrozen_at == 2
    assert any(not torch.equal(a, b) for a, b in zip(decoder_before, result.model.decoder.parameters()))
    assert all(p.requires_grad for p in result.model.encoder.parameters())


def test_stage_task_uses_the_area_loader_and_callbacks(rows, tmp_path, monkeypatch):
    """ASR_TASK.train batches through finetune_loader (variable-length audio) and adds the
    freezing callback its config asks for; evaluate batches the same way."""
    import dl_roadmap.core.stages.task as task_module

    seen = {}

    def fake_fit(model, train, val, *, step, name, fit_params, trainer_params, callbacks):
        seen.update(train=train, val=val, callbacks=callbacks, fit_params=fit_params)
        return "result"

    monkeypatch.setattr(task_module, "fit", fake_fit)
    splits = ASR_TASK.splits({"train": rows, "validation": rows[:2], "test": rows[:2]})
    config = {"freeze_encoder_steps": 3, "fit": {"batch_size": 2}}
    assert ASR_TASK.train(config, splits, None, {}, name="x", model=torch.nn.Linear(1, 1)) == "result"
    first = next(iter(seen["train"]))
    assert isinstance(first[2], list) and first[0].shape[0] <= 2
    assert [type(c).__name__ for c in seen["callbacks"]] == ["FreezeEncoderFor"]
    assert seen["fit_params"]["monitor"] == "val_wer" and seen["fit_params"]["mode"] == "min"
