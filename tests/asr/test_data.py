"""Audio-text batches for fit (dl_roadmap.asr.data): the dataset, padding, batching by
duration, the loader, and tokenization in the training step."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from dl_roadmap.asr.data import (
    AudioTextDataset,
    DurationBatchSampler,
    audio_loader,
    collate_audio_text,
    tokenize_texts,
)
from dl_roadmap.asr.step import asr_step
from tests.asr.samples import COMMANDS


def test_dataset_and_collate_pad_to_the_longest(command_rows):
    dataset = AudioTextDataset(command_rows)
    signal, lengths, texts = collate_audio_text([dataset[0], dataset[3]])
    assert lengths.tolist() == [6400, 16000] and signal.shape == (2, 16000)
    assert texts == [COMMANDS[0], COMMANDS[3]]
    assert torch.all(signal[0, 6400:] == 0) and signal[0, :6400].abs().sum() > 0
    with pytest.raises(KeyError, match="row 1 has no 'text'"):
        AudioTextDataset([command_rows[0], {"audio_filepath": "x.wav"}])


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


def test_audio_loader_batches(command_rows):
    loader = audio_loader(AudioTextDataset(command_rows), batch_size=4, shuffle=False, bucketing=True)
    batches = list(loader)
    assert sum(len(b[2]) for b in batches) == len(command_rows)
    plain = list(audio_loader(AudioTextDataset(command_rows), batch_size=4, shuffle=False, bucketing=False))
    assert [b[2] for b in plain] == [COMMANDS[:4], COMMANDS[4:]]


def test_tokenize_texts_matches_the_tokenizer(tiny_model):
    tokens, lengths = tokenize_texts(tiny_model, ["open the door", "turn the red light on"])
    for row, text in enumerate(["open the door", "turn the red light on"]):
        ids = tiny_model.tokenizer.text_to_ids(text)
        assert lengths[row] == len(ids) and tokens[row, : len(ids)].tolist() == ids
        assert torch.all(tokens[row, len(ids):] == 0)


def test_step_on_text_batches_equals_step_on_token_batches(tiny_model, command_rows):
    signal, lengths, texts = collate_audio_text([AudioTextDataset(command_rows)[i] for i in range(3)])
    tokens, token_lengths = tokenize_texts(tiny_model, texts)
    tiny_model.eval()
    with torch.no_grad():  # TDT's omega draws the loss kind at random: same draw for both
        random.seed(0)
        from_text = asr_step(tiny_model, (signal, lengths, texts))
        random.seed(0)
        from_tokens = asr_step(tiny_model, (signal, lengths, tokens, token_lengths))
    assert from_text["loss"].item() == pytest.approx(from_tokens["loss"].item(), rel=1e-5)
    assert from_text["words"].item() == pytest.approx(from_tokens["words"].item())
