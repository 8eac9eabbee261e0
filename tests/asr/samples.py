"""Texts and clips the ASR tests share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

LETTERS = "abcdefghijklmnopqrstuvwxyz' "
HOME = ["turn the red light on", "switch off the fan in the kitchen", "set the hall heater to five",
        "don't open the garden door", "dim the blue lamp to three", "the office radio is off"]
ROBOT = ["move the black robot left", "pick up the brown box", "put the cup on the tray",
         "rotate the arm ninety degrees right", "the robot can't reach the ball"]
BATCH_TEXTS = ("turn the light on", "open the door")
COMMANDS = ["turn the red light on", "open the door", "move the box left", "pick up the cup",
            "set the fan to five", "close the window"]
NOISE_SECONDS = (0.6, 1.0, 0.8)


def tone(path: Path, seconds: float = 1.0, rate: int = 16_000, channels: int = 1, freq: float = 440.0) -> Path:
    """A sine WAV (16-bit) of the given length, rate and channel count."""
    t = np.arange(int(round(seconds * rate))) / rate
    wave = 0.5 * np.sin(2 * np.pi * freq * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.stack([wave] * channels, axis=1) if channels > 1 else wave, rate, subtype="PCM_16")
    return path
