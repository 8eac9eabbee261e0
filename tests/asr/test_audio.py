"""Audio decoding, down-mixing, resampling and WAV writing (dl_roadmap.asr.audio)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dl_roadmap.asr.audio import AudioError, is_target_wav, load_audio, resample, write_wav
from tests.asr.samples import tone


def peak_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize("rate", [22_050, 44_100])
def test_stereo_audio_becomes_16k_mono_with_its_frequency(tmp_path: Path, rate: int) -> None:
    path = tone(tmp_path / "sine.wav", seconds=1.5, rate=rate, channels=2, freq=1000.0)
    samples = load_audio(path)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - 24_000) <= 1  # 1.5 s at 16 kHz
    assert peak_frequency(samples, 16_000) == pytest.approx(1000.0, abs=2.0)
    assert np.abs(samples[2000:-2000]).max() == pytest.approx(0.5, abs=0.02)  # level kept by the down-mix


def test_resampling_removes_what_16k_cannot_hold() -> None:
    # 10 kHz is above the 8 kHz Nyquist limit of 16 kHz audio: the anti-aliasing filter removes it
    # (over 40 dB down) instead of folding it back to 6 kHz at full level.
    t = np.arange(44_100) / 44_100
    out = resample(np.sin(2 * np.pi * 10_000 * t), 44_100, 16_000)
    assert len(out) == 16_000
    assert np.sqrt(np.mean(out[1000:-1000] ** 2)) < 0.01


def test_audio_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not found.*nothing.wav"):
        load_audio(tmp_path / "nothing.wav")
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"this is not audio" * 50)
    with pytest.raises(AudioError, match="cannot decode.*garbage.wav"):
        load_audio(garbage)


def test_write_wav_is_16_bit_mono(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "sub" / "x.wav", np.full(800, 2.0, dtype=np.float32))
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (16_000, 1, "PCM_16", 800)
    assert is_target_wav(path) and not is_target_wav(tone(tmp_path / "s.wav", rate=22_050))
    assert sf.read(path)[0].max() == pytest.approx(1.0, abs=1e-4)  # clipped, not wrapped
