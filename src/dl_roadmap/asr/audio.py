"""Audio I/O for ASR data: any soundfile-readable file -> float32 mono at a target rate.

Parakeet models take 16 kHz mono input, so every clip is decoded, down-mixed and
resampled here, and its duration is measured from the decoded samples (a header or a
manifest may lie; the samples do not).
"""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

TARGET_SAMPLE_RATE = 16_000


class AudioError(ValueError):
    """An audio file is missing or cannot be decoded; the message names the file."""


def resample(signal: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample a 1-D signal with a polyphase anti-aliasing filter.

    Args:
        signal: mono samples.
        orig_rate: sample rate of ``signal`` in Hz.
        target_rate: wanted sample rate in Hz.

    Returns:
        float32 samples at ``target_rate`` (``len(signal) * target_rate / orig_rate``, rounded up).
    """
    if orig_rate <= 0 or target_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_rate} -> {target_rate}")
    if orig_rate == target_rate or len(signal) == 0:
        return np.asarray(signal, dtype=np.float32)
    # Reduce the ratio so the polyphase filter stays short (22050 -> 16000 is 320/441).
    factor = gcd(int(orig_rate), int(target_rate))
    up, down = int(target_rate) // factor, int(orig_rate) // factor
    return resample_poly(np.asarray(signal, dtype=np.float64), up, down).astype(np.float32)


def load_audio(path: str | Path, sample_rate: int = TARGET_SAMPLE_RATE) -> np.ndarray:
    """Decode an audio file to float32 mono samples at ``sample_rate``.

    Args:
        path: any format libsndfile reads (WAV, FLAC, OGG, MP3 with libsndfile >= 1.1, ...).
        sample_rate: target rate in Hz.

    Returns:
        1-D float32 array in [-1, 1] (channels averaged).

    Raises:
        AudioError: the file does not exist or cannot be decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file not found: {path}")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as error:  # libsndfile's errors say what but not always which file
        raise AudioError(f"cannot decode audio file {path}: {error}") from error
    # Averaging keeps the level of a centred (identical) stereo image instead of doubling it.
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return resample(mono, rate, sample_rate)


def duration_seconds(samples: np.ndarray, sample_rate: int = TARGET_SAMPLE_RATE) -> float:
    """Duration of decoded samples in seconds.

    Args:
        samples: 1-D samples.
        sample_rate: their rate in Hz.

    Returns:
        ``len(samples) / sample_rate``.
    """
    return len(samples) / float(sample_rate)


def is_target_wav(path: str | Path, sample_rate: int = TARGET_SAMPLE_RATE) -> bool:
    """Whether a file already is a 16-bit PCM mono WAV at ``sample_rate`` (no conversion needed).

    Args:
        path: audio file.
        sample_rate: wanted rate in Hz.

    Returns:
        True for a readable WAV with that rate, one channel and PCM_16 samples.
    """
    try:
        info = sf.info(str(path))
    except Exception:  # unreadable: the caller's decode reports why
        return False
    return (info.format == "WAV" and info.subtype == "PCM_16" and info.channels == 1
            and info.samplerate == sample_rate)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int = TARGET_SAMPLE_RATE) -> Path:
    """Write mono samples as a 16-bit PCM WAV (the format NeMo's loaders read fastest).

    Args:
        path: destination; parent folders are created.
        samples: 1-D float samples in [-1, 1] (clipped).
        sample_rate: rate in Hz.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.clip(samples, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
    return path
