"""A demo speech corpus in two domains, synthesised offline with Debian's espeak-ng.

Domain A (the base model's domain) is home-control commands in one voice and rate;
domain B (the fine-tuning target) is robot commands in another voice, pitch and rate, with
a partly new vocabulary. A model trained on A transcribes B poorly; fine-tuning on B's
training audio should lower its word error rate on B's held-out test audio.

Sentences come from small grammars with a seeded generator and espeak-ng is deterministic,
so the same parameters give the same corpus. Texts use lower-case letters, apostrophe and
space only, and every character of domain B also occurs in domain A.

Parameters (``demo_corpus``), with defaults in ``DEFAULT_CORPUS_PARAMS``:

- ``seed``: sentence and jitter generator seed.
- ``sample_rate``: rate of the written WAVs (16-bit mono).
- ``min_duration_s``, ``max_duration_s``: utterances outside are replaced by new sentences.
- ``workers``: espeak-ng processes run at once.
- ``domains``: per domain (``domain_a``, ``domain_b``): ``grammar`` (``"home"`` or
  ``"robot"``), espeak-ng ``voice`` (e.g. ``en-us``, ``en-gb-scotland+f3``), ``rate``
  (words per minute), ``pitch`` (0-99), ``rate_jitter`` and ``pitch_jitter`` (uniform
  +/- per utterance), ``utterances`` (training + validation) and ``test_utterances``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from dl_roadmap.asr.audio import duration_seconds, load_audio, write_wav
from dl_roadmap.asr.manifest import write_manifest

CORPUS_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz' ")

DEFAULT_CORPUS_PARAMS: dict[str, Any] = {
    "seed": 0,
    "sample_rate": 16_000,
    "min_duration_s": 1.0,
    "max_duration_s": 4.0,
    "workers": 2,
    "domains": {
        "domain_a": {"grammar": "home", "voice": "en-us", "rate": 165, "pitch": 50, "rate_jitter": 10,
                     "pitch_jitter": 6, "utterances": 400, "test_utterances": 40},
        "domain_b": {"grammar": "robot", "voice": "en-gb-scotland+f3", "rate": 135, "pitch": 70, "rate_jitter": 10,
                     "pitch_jitter": 6, "utterances": 200, "test_utterances": 60},
    },
}

_NUMBERS = "one two three four five six seven eight nine ten twenty thirty fifty".split()
# Templates are word slots: a list is a choice, a string is fixed text.
_GRAMMARS: dict[str, list[list[str | list[str]]]] = {}
_HOME_COLOURS = "red green blue yellow white orange purple pink".split()
_HOME_THINGS = "light lamp fan heater radio door window speaker".split()
_ROOMS = "kitchen bedroom hall garden office".split()
_ON_OFF = ["on", "off"]
_GRAMMARS["home"] = [
    ["turn the", _HOME_COLOURS, _HOME_THINGS, _ON_OFF],
    ["turn", _ON_OFF, "the", _HOME_COLOURS, _HOME_THINGS, "in the", _ROOMS],
    ["switch", _ON_OFF, "the", _HOME_THINGS, "in the", _ROOMS],
    ["set the", _ROOMS, _HOME_THINGS, "to", _NUMBERS],
    ["dim the", _HOME_COLOURS, "lamp to", _NUMBERS],
    ["please", ["open", "close"], "the", _ROOMS, ["door", "window"]],
    ["don't turn", _ON_OFF, "the", _ROOMS, _HOME_THINGS],
    ["turn", _ON_OFF, "all the", _HOME_COLOURS, "lights"],
    ["the", _ROOMS, _HOME_THINGS, "is", _ON_OFF],
]
_ROBOT_COLOURS = "red green blue yellow white black brown".split()
_ITEMS = "box cup ball block bottle tool".split()
_PLACES = "shelf table floor tray cart".split()
_DIRECTIONS = "left right forward back".split()
_ROBOT_NUMBERS = _NUMBERS + ["fifteen", "ninety"]
_GRAMMARS["robot"] = [
    ["move the", _ROBOT_COLOURS, "robot", _DIRECTIONS],
    ["pick up the", _ROBOT_COLOURS, _ITEMS],
    ["put the", _ROBOT_COLOURS, _ITEMS, "on the", _PLACES],
    ["rotate the arm", _ROBOT_NUMBERS, "degrees", _DIRECTIONS],
    ["move", _ROBOT_NUMBERS, "steps", _DIRECTIONS],
    ["drop the", _ITEMS, "on the", _PLACES, "now"],
    ["the robot can't reach the", _ROBOT_COLOURS, _ITEMS],
    ["grab the", _ITEMS, "from the", _PLACES],
    ["stop the", _ROBOT_COLOURS, "robot now"],
]


def grammar_words(grammar: str) -> set[str]:
    """Every word a grammar can produce (its vocabulary).

    Args:
        grammar: ``"home"`` or ``"robot"``.

    Returns:
        The words.
    """
    words: set[str] = set()
    for template in _GRAMMARS[grammar]:
        for slot in template:
            for choice in [slot] if isinstance(slot, str) else slot:
                words.update(choice.split())
    return words


class EspeakNotFoundError(RuntimeError):
    """espeak-ng is not installed."""


def espeak_binary() -> str:
    """Path of the espeak-ng program.

    Returns:
        The executable found on PATH.

    Raises:
        EspeakNotFoundError: it is not installed.
    """
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise EspeakNotFoundError("espeak-ng was not found on PATH: install Debian's espeak-ng "
                                  "(make install does it)")
    return binary


def corpus_params(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The defaults with ``overrides`` merged in, key by key (nested dicts too).

    Args:
        overrides: any subset of ``DEFAULT_CORPUS_PARAMS``.

    Returns:
        The complete parameters.
    """
    def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for key, value in extra.items():
            out[key] = merge(base[key], value) if isinstance(value, Mapping) and isinstance(base.get(key), Mapping) \
                else value
        return out
    return merge(DEFAULT_CORPUS_PARAMS, overrides or {})


def generate_sentences(grammar: str, count: int, rng: np.random.Generator, exclude: set[str]) -> list[str]:
    """New distinct sentences from a grammar.

    Args:
        grammar: ``"home"`` or ``"robot"``.
        count: how many.
        rng: the generator (advanced).
        exclude: sentences not to repeat (updated with the new ones).

    Returns:
        ``count`` sentences not in ``exclude``.
    """
    templates = _GRAMMARS[grammar]
    sentences: list[str] = []
    for _ in range(200 * count + 1000):  # bounded: a small grammar cannot loop forever
        if len(sentences) == count:
            return sentences
        template = templates[rng.integers(len(templates))]
        words = [slot if isinstance(slot, str) else slot[rng.integers(len(slot))] for slot in template]
        sentence = " ".join(words)
        if sentence not in exclude:
            exclude.add(sentence)
            sentences.append(sentence)
    raise ValueError(f"the {grammar!r} grammar has too few distinct sentences for {count} more "
                     f"({len(exclude)} used); ask for fewer utterances")


def synthesize(text: str, path: Path, voice: str, rate: int, pitch: int, sample_rate: int) -> float:
    """Speak one sentence with espeak-ng into a 16-bit mono WAV at ``sample_rate``.

    Args:
        text: the sentence.
        path: the WAV written.
        voice: espeak-ng voice (``--voices=en`` lists them; ``+f3``-style variants allowed).
        rate: words per minute.
        pitch: 0-99.
        sample_rate: output rate (espeak-ng speaks at 22.05 kHz; the audio is resampled).

    Returns:
        The measured duration in seconds.
    """
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "espeak.wav"
        done = subprocess.run([espeak_binary(), "-v", voice, "-s", str(rate), "-p", str(pitch), "-w", str(raw),
                               "--", text], capture_output=True, text=True, check=False)
        if done.returncode != 0 or not raw.is_file() or raw.stat().st_size <= 44:
            raise RuntimeError(f"espeak-ng (voice {voice!r}) failed for {text!r}: {done.stderr.strip()}")
        samples = load_audio(raw, sample_rate)
    write_wav(path, samples, sample_rate)
    return duration_seconds(samples, sample_rate)


def _synthesize_domain(name: str, domain: Mapping[str, Any], params: Mapping[str, Any], folder: Path,
                       rng: np.random.Generator, pool: ThreadPoolExecutor) -> tuple[list[dict], list[dict]]:
    wanted = int(domain["utterances"]) + int(domain["test_utterances"])
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    while len(rows) < wanted:
        need = wanted - len(rows)
        texts = generate_sentences(domain["grammar"], need, rng, seen)
        rates = domain["rate"] + rng.integers(-domain["rate_jitter"], domain["rate_jitter"] + 1, need)
        pitches = np.clip(domain["pitch"] + rng.integers(-domain["pitch_jitter"], domain["pitch_jitter"] + 1, need),
                          0, 99)
        paths = [folder / "wavs" / f"{name}_{len(rows) + i:05d}.wav" for i in range(need)]
        durations = list(pool.map(lambda i: synthesize(texts[i], paths[i], domain["voice"], int(rates[i]),
                                                       int(pitches[i]), params["sample_rate"]), range(need)))
        # Too short or too long utterances are replaced by new sentences in the next round;
        # the kept ones are renumbered so the files stay consecutive.
        for text, path, duration in zip(texts, paths, durations):
            if params["min_duration_s"] <= duration <= params["max_duration_s"]:
                final = folder / "wavs" / f"{name}_{len(rows):05d}.wav"
                if final != path:
                    path.replace(final)
                rows.append({"audio_filepath": str(final), "duration": round(duration, 4), "text": text})
            else:
                path.unlink()
    split = int(domain["utterances"])
    return rows[:split], rows[split:]


def synthesize_corpus(out_dir: str | Path, params: Mapping[str, Any] | None = None,
                      force: bool = False) -> dict[str, str]:
    """Synthesise the demo corpus (or reuse it when the same parameters made it before).

    Writes ``<out_dir>/<domain>/wavs/*.wav``, ``<domain>/manifest.json`` (training and
    validation utterances) and ``<domain>/test_manifest.json``, with audio paths relative to
    the manifest's folder, and ``<out_dir>/corpus.json`` recording the parameters.

    Args:
        out_dir: corpus folder.
        params: overrides of ``DEFAULT_CORPUS_PARAMS``.
        force: synthesise even if a matching corpus exists.

    Returns:
        Manifest paths by name: ``"<domain>"`` and ``"<domain>_test"``.

    Raises:
        EspeakNotFoundError: espeak-ng is not installed.
    """
    params = corpus_params(params)
    out_dir = Path(out_dir)
    stamp = out_dir / "corpus.json"
    version = subprocess.run([espeak_binary(), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    expected = {"params": params, "espeak": version}
    manifests = {}
    for name in params["domains"]:
        manifests[name] = str(out_dir / name / "manifest.json")
        manifests[f"{name}_test"] = str(out_dir / name / "test_manifest.json")
    if not force and stamp.is_file() and json.loads(stamp.read_text()) == expected \
            and all(Path(p).is_file() for p in manifests.values()):
        return manifests
    stamp.unlink(missing_ok=True)  # a half-written corpus must not look finished
    rng = np.random.default_rng(params["seed"])
    with ThreadPoolExecutor(max_workers=max(1, int(params["workers"]))) as pool:
        for name, domain in params["domains"].items():
            folder = out_dir / name
            if (folder / "wavs").is_dir():
                shutil.rmtree(folder / "wavs")  # stale clips of other parameters
            train, test = _synthesize_domain(name, domain, params, folder, rng, pool)
            write_manifest(train, manifests[name], relative_to=folder)
            write_manifest(test, manifests[f"{name}_test"], relative_to=folder)
    stamp.write_text(json.dumps(expected, indent=2))
    return manifests
