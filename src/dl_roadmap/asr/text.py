"""Transcript normalisation for ASR training, driven by a parameters dict.

A CTC/TDT tokenizer can only emit what its vocabulary holds, so transcripts are brought
to one convention before training: case, punctuation, numbers (spelled out in English,
as speech says them) and whitespace.

Parameters (``text_normalization`` in the project's parameters), with defaults:

- ``case``: ``"lower"`` | ``"upper"`` | ``"keep"`` (default ``"lower"``).
- ``punctuation``: ``"strip"`` (punctuation and symbols become spaces) | ``"keep"``
  (default ``"strip"``).
- ``apostrophes``: ``"keep"`` (word-internal apostrophes survive punctuation stripping:
  "don't") | ``"strip"`` (apostrophes are deleted, joining the word: "dont") (default ``"keep"``).
- ``numbers``: ``"words"`` (``"42"`` -> ``"forty two"``, ``"1,500"`` -> ``"one thousand five
  hundred"``, ``"3.5"`` -> ``"three point five"``, ``"2nd"`` -> ``"second"``) | ``"keep"``
  (default ``"words"``). Integers up to 999999 are read as numbers; longer ones and ones
  with a leading zero ("007") digit by digit.

Whitespace is always collapsed to single spaces and trimmed; Unicode is NFKC-normalised
and typographic apostrophes become ``'``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

DEFAULT_TEXT_PARAMS: dict[str, str] = {
    "case": "lower",
    "punctuation": "strip",
    "apostrophes": "keep",
    "numbers": "words",
}
_CHOICES = {
    "case": ("lower", "upper", "keep"),
    "punctuation": ("strip", "keep"),
    "apostrophes": ("keep", "strip"),
    "numbers": ("words", "keep"),
}

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                      "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
MAX_SPELLED = 999_999

# A number: digits with optional thousands commas and decimals, or an ordinal like "21st".
_NUMBER = re.compile(r"(?<!\d)(\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:(\.\d+)|(st|nd|rd|th)(?![a-z]))?", re.IGNORECASE)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'"})


def number_to_words(n: int) -> str:
    """Spell a whole number in English words (US style, no "and").

    Args:
        n: 0 <= n <= 999999.

    Returns:
        e.g. ``"one hundred twenty three thousand four hundred fifty six"``.
    """
    if not 0 <= n <= MAX_SPELLED:
        raise ValueError(f"number_to_words spells 0..{MAX_SPELLED}, got {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, rest = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[rest]}" if rest else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_to_words(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    return f"{number_to_words(thousands)} thousand" + (f" {number_to_words(rest)}" if rest else "")


def ordinal_words(n: int) -> str:
    """Spell an ordinal number: 1 -> "first", 22 -> "twenty second", 40 -> "fortieth".

    Args:
        n: 0 <= n <= 999999.

    Returns:
        The words, the last one made ordinal.
    """
    *head, last = number_to_words(n).split()
    if last in _ORDINAL_IRREGULAR:
        last = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


def _digits(digits: str) -> str:
    return " ".join(_ONES[int(d)] for d in digits)


def _spell_number(match: re.Match[str]) -> str:
    integer, decimals, ordinal = match.group(1), match.group(2), match.group(3)
    plain = integer.replace(",", "")
    # Codes and long figures ("007", "1234567") are read digit by digit, as people do.
    if (len(plain) > 1 and plain.startswith("0")) or int(plain) > MAX_SPELLED:
        words = _digits(plain)
    elif ordinal:
        words = ordinal_words(int(plain))
    else:
        words = number_to_words(int(plain))
    if decimals:
        words += " point " + _digits(decimals[1:])
    # Keep a space from glued letters ("5kg" -> "five kg") without adding one before punctuation.
    before = match.string[match.start() - 1:match.start()]
    after = match.string[match.end():match.end() + 1]
    return (" " if before.isalnum() else "") + words + (" " if after.isalnum() else "")


def check_text_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Defaults filled in and every key and value checked.

    Args:
        params: a subset of ``DEFAULT_TEXT_PARAMS``'s keys, or None for the defaults.

    Returns:
        The complete parameters.

    Raises:
        ValueError: an unknown key or value (the message lists the accepted ones).
    """
    merged = {**DEFAULT_TEXT_PARAMS, **(params or {})}
    unknown = sorted(set(merged) - set(_CHOICES))
    if unknown:
        raise ValueError(f"unknown text normalisation parameter(s) {unknown}; known: {sorted(_CHOICES)}")
    for key, value in merged.items():
        if value not in _CHOICES[key]:
            raise ValueError(f"text normalisation {key}={value!r}; expected one of {_CHOICES[key]}")
    return merged


def normalize_text(text: str, params: Mapping[str, Any] | None = None) -> str:
    """Normalise one transcript.

    Args:
        text: raw transcript.
        params: normalisation parameters (module docstring); None for the defaults.

    Returns:
        The normalised transcript (possibly empty, e.g. for punctuation only).
    """
    p = check_text_params(params)
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    # Numbers first: their commas and decimal points are punctuation that stripping would split.
    if p["numbers"] == "words":
        text = _NUMBER.sub(_spell_number, text)
    if p["apostrophes"] == "strip":
        text = text.replace("'", "")
    if p["punctuation"] == "strip":
        # Only apostrophes inside a word ("don't") are letters of it; quotes are not.
        text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
        text = re.sub(r"[^\w\s']|_", " ", text)
    if p["case"] == "lower":
        text = text.lower()
    elif p["case"] == "upper":
        text = text.upper()
    return " ".join(text.split())


def character_set(texts: Iterable[str]) -> set[str]:
    """Every character used in some texts (a tokenizer must cover all of them).

    Args:
        texts: transcripts.

    Returns:
        The set of characters, spaces included.
    """
    chars: set[str] = set()
    for text in texts:
        chars.update(text)
    return chars


def unknown_characters(text: str, allowed: Iterable[str]) -> list[str]:
    """Characters of ``text`` outside an allowed set, sorted, each once.

    Args:
        text: a transcript.
        allowed: the characters a tokenizer can represent (a string or a set).

    Returns:
        The characters not in ``allowed`` (empty when all are representable).
    """
    return sorted(set(text) - set(allowed))
