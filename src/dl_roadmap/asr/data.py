"""Audio-text batches for training through ``core.training.fit``.

NeMo's own loaders tokenize inside the dataset, so they must be built by a model. Here the
dataset yields raw ``(waveform, text)`` pairs and the training step tokenizes each batch
with the model it trains (:func:`tokenize_texts`): the same dataset then serves every
trial of a study and every tokenizer (kept or adapted), and it pickles for worker
processes.

Batches are ``(signal, signal_lengths, texts)``: ``signal`` is zero-padded float32
(B, samples). :class:`DurationBatchSampler` groups clips of similar duration so that a
batch carries little padding, optionally capping the seconds of audio per batch (batching
by duration, as NeMo's bucketing does).

:func:`make_dataloader` is NeMo's own loader for a manifest instead, built by a model and
tokenized inside the dataset: batches ``(signal, signal_lengths, tokens, token_lengths)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Sampler

from dl_roadmap.asr.audio import TARGET_SAMPLE_RATE, load_audio


class AudioTextDataset(Dataset):
    """Manifest rows (``audio_filepath``, ``text``, ``duration``) -> ``(waveform, text)``.

    Clips are decoded on access (16 kHz mono, resampled if needed), so memory stays small
    whatever the corpus size.
    """

    def __init__(self, rows: Sequence[Mapping[str, Any]], sample_rate: int = TARGET_SAMPLE_RATE):
        missing = [(i, key) for i, row in enumerate(rows) for key in ("audio_filepath", "text") if key not in row]
        if missing:
            index, key = missing[0]
            raise KeyError(f"manifest row {index} has no {key!r} ({len(missing)} missing field(s) in all)")
        self.rows = [dict(row) for row in rows]
        self.sample_rate = sample_rate

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> tuple[Tensor, str]:
        row = self.rows[index]
        samples = load_audio(row["audio_filepath"], self.sample_rate)
        return torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)), str(row["text"])

    @property
    def durations(self) -> list[float]:
        """Each clip's duration from its row (0 where a row has none)."""
        return [float(row.get("duration") or 0.0) for row in self.rows]


def collate_audio_text(items: Sequence[tuple[Tensor, str]]) -> tuple[Tensor, Tensor, list[str]]:
    """Pad waveforms to the longest in the batch: ``(signal, lengths, texts)``."""
    lengths = torch.tensor([len(signal) for signal, _ in items], dtype=torch.long)
    signal = torch.zeros(len(items), int(lengths.max()) if len(items) else 0)
    for row, (samples, _) in enumerate(items):
        signal[row, : len(samples)] = samples
    return signal, lengths, [text for _, text in items]


class DurationBatchSampler(Sampler[list[int]]):
    """Batches of clips of similar duration, in shuffled order.

    Every epoch the clips are shuffled, cut into windows of ``window`` batches, each window
    sorted by duration and cut into batches; then the batches are shuffled. A batch holds
    at most ``batch_size`` clips and, when ``max_batch_seconds`` is set, at most that much
    audio (a clip longer than the cap gets a batch of its own).

    Args:
        durations: seconds per clip.
        batch_size: most clips per batch.
        shuffle: reshuffle every epoch (otherwise one fixed, sorted order).
        seed: base seed; epoch ``e`` uses ``seed + e``.
        max_batch_seconds: cap on the audio per batch; None for no cap.
        window: batches per sorting window (larger: less padding, less randomness).
    """

    def __init__(self, durations: Sequence[float], batch_size: int, shuffle: bool = True, seed: int = 0,
                 max_batch_seconds: float | None = None, window: int = 8):
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if max_batch_seconds is not None and max_batch_seconds <= 0:
            raise ValueError(f"max_batch_seconds must be positive or null, got {max_batch_seconds!r}")
        self.durations = [float(d) for d in durations]
        self.batch_size, self.shuffle, self.seed = int(batch_size), bool(shuffle), int(seed)
        self.max_batch_seconds, self.window = max_batch_seconds, max(1, int(window))
        self.epoch = 0
        # With a cap the batch count varies with the order; Lightning needs a fixed length,
        # so it is taken from the unshuffled order and batches are merged or split to fit.
        self._length = len(self._batches(np.arange(len(self.durations))))

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng(self.seed + self.epoch)
        self.epoch += 1
        order = rng.permutation(len(self.durations)) if self.shuffle else np.arange(len(self.durations))
        batches = self._batches(order)
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        yield from _fit_length(batches, self._length)

    def _batches(self, order: np.ndarray) -> list[list[int]]:
        span = self.batch_size * self.window
        batches: list[list[int]] = []
        for start in range(0, len(order), span):
            chunk = sorted(order[start:start + span].tolist(), key=lambda i: self.durations[i])
            batch: list[int] = []
            seconds = 0.0
            for index in chunk:
                full = len(batch) >= self.batch_size or (
                    self.max_batch_seconds is not None and batch and seconds + self.durations[index] > self.max_batch_seconds)
                if full:
                    batches.append(batch)
                    batch, seconds = [], 0.0
                batch.append(index)
                seconds += self.durations[index]
            if batch:
                batches.append(batch)
        return batches


def _fit_length(batches: list[list[int]], length: int) -> list[list[int]]:
    """Merge the two smallest batches, or split the largest, until there are ``length``."""
    batches = [list(b) for b in batches]
    while len(batches) > length:
        batches.sort(key=len)
        batches = [batches[0] + batches[1], *batches[2:]]
    while len(batches) < length:
        largest = max(range(len(batches)), key=lambda i: len(batches[i]))
        batch = batches.pop(largest)
        half = math.ceil(len(batch) / 2)
        batches += [batch[:half], batch[half:]]
    return batches


def audio_loader(dataset: AudioTextDataset, batch_size: int, shuffle: bool, *, seed: int = 0,
                 bucketing: bool = True, max_batch_seconds: float | None = None, num_workers: int = 0) -> DataLoader:
    """A DataLoader of ``(signal, lengths, texts)`` batches over ``dataset``.

    Args:
        dataset: the clips.
        batch_size: most clips per batch.
        shuffle: reshuffle every epoch (training).
        seed: shuffling seed.
        bucketing: group clips of similar duration (:class:`DurationBatchSampler`); otherwise
            plain (shuffled) batches of ``batch_size``.
        max_batch_seconds: with bucketing, cap the audio per batch.
        num_workers: loader processes (0: decode in the training process, right on CPU).
    """
    if bucketing:
        sampler = DurationBatchSampler(dataset.durations, batch_size, shuffle=shuffle, seed=seed,
                                       max_batch_seconds=max_batch_seconds)
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_audio_text, num_workers=num_workers)
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator,
                      collate_fn=collate_audio_text, num_workers=num_workers)


def tokenize_texts(model: nn.Module, texts: Sequence[str]) -> tuple[Tensor, Tensor]:
    """Token ids of each text by the model's own vocabulary, zero-padded: ``(tokens, lengths)``.

    BPE models use their SentencePiece tokenizer; character models map each character to
    its index in the model's labels.

    Raises:
        ValueError: a text with characters a character model cannot represent, naming them.
    """
    if hasattr(model, "tokenizer"):
        ids = [model.tokenizer.text_to_ids(text) for text in texts]
    else:
        labels = {label: index for index, label in enumerate(model.cfg.labels)}
        unknown = sorted({char for text in texts for char in text if char not in labels})
        if unknown:
            raise ValueError(f"characters {unknown} are not in the model's labels")
        ids = [[labels[char] for char in text] for text in texts]
    lengths = torch.tensor([len(row) for row in ids], dtype=torch.long)
    tokens = torch.zeros(len(ids), max(int(lengths.max()) if len(ids) else 0, 1), dtype=torch.long)
    for row, values in enumerate(ids):
        tokens[row, : len(values)] = torch.tensor(values, dtype=torch.long)
    return tokens, lengths


def make_dataloader(
    model: nn.Module,
    manifest_path: str | Path,
    batch_size: int,
    shuffle: bool = False,
    *,
    num_workers: int = 0,
    max_duration: float | None = None,
    min_duration: float | None = None,
    bucketing: bool = False,
    bucketing_randomization: float = 0.1,
    drop_last: bool = False,
) -> DataLoader:
    """NeMo's audio-to-text data loader for a manifest, tokenized by the model's tokenizer.

    Built by the model itself (the loader its ``setup_training_data`` would make), but
    without recording it as the model's training or validation set, so one model can have
    several loaders. Batches are ``(signal, signal_lengths, tokens, token_lengths)``.

    Args:
        model: the NeMo model the batches are for (its tokenizer or labels, sample rate).
        manifest_path: NeMo manifest (JSON lines; relative audio paths are resolved against
            its folder).
        batch_size: utterances per batch.
        shuffle: reshuffle every epoch (seeded by ``fit``'s seed).
        num_workers: loader processes (0 loads in the training process; right for CPU).
        max_duration, min_duration: drop utterances outside these seconds.
        bucketing: NeMo's semi-sorted batching: batches of similar durations (less padding),
            in shuffled order; replaces ``shuffle``.
        bucketing_randomization: noise on the durations before sorting, as a fraction of
            the duration range (0 sorts strictly).
        drop_last: drop a last, smaller batch.

    Returns:
        A torch DataLoader.
    """
    from omegaconf import OmegaConf

    manifest_path = Path(manifest_path)
    if not manifest_path.is_file():
        raise FileNotFoundError(f"no manifest at {manifest_path}")
    config = {
        "manifest_filepath": str(manifest_path.resolve()),
        "sample_rate": int(model.cfg.get("sample_rate", 16_000)),
        "batch_size": int(batch_size),
        "shuffle": bool(shuffle),
        "num_workers": int(num_workers),
        "pin_memory": torch.cuda.is_available(),
        "max_duration": max_duration,
        "min_duration": min_duration,
        "trim_silence": False,
        "use_start_end_token": False,  # transducers and CTC predict no sentence markers
        "drop_last": bool(drop_last),
        "use_semi_sorted_batching": bool(bucketing),
        "randomization_factor": float(bucketing_randomization),
    }
    if not hasattr(model, "tokenizer"):  # character models read their labels from the config
        config["labels"] = list(model.cfg.labels)
    loader = model._setup_dataloader_from_config(config=OmegaConf.create(config))
    if loader is None:
        raise ValueError(f"NeMo made no data loader for {manifest_path}")
    return loader
