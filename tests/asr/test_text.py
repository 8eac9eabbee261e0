"""Transcript normalisation and character sets (dl_roadmap.asr.text)."""

from __future__ import annotations

import pytest

from dl_roadmap.asr.text import (
    character_set,
    check_text_params,
    normalize_text,
    number_to_words,
    unknown_characters,
)
from tests.asr.samples import LETTERS


@pytest.mark.parametrize(("n", "words"), [
    (0, "zero"), (13, "thirteen"), (40, "forty"), (99, "ninety nine"), (100, "one hundred"),
    (101, "one hundred one"), (1000, "one thousand"), (20_017, "twenty thousand seventeen"),
    (100_000, "one hundred thousand"),
    (999_999, "nine hundred ninety nine thousand nine hundred ninety nine"),
])
def test_number_to_words(n: int, words: str) -> None:
    assert number_to_words(n) == words


@pytest.mark.parametrize("n", [-1, 1_000_000])
def test_number_to_words_range(n: int) -> None:
    with pytest.raises(ValueError, match="0..999999"):
        number_to_words(n)


@pytest.mark.parametrize(("text", "params", "expected"), [
    ("Hello,  World!", None, "hello world"),
    ("Don't stop 'believing'", None, "don't stop believing"),
    ("It\u2019s here", None, "it's here"),
    ("I have 42 apples", None, "i have forty two apples"),
    ("1,500 people paid $3.50", None, "one thousand five hundred people paid three point five zero"),
    ("the 2nd and the 21st and the 40th", None, "the second and the twenty first and the fortieth"),
    ("agent 007 has 1234567", None, "agent zero zero seven has one two three four five six seven"),
    ("5kg of rock-and-roll", None, "five kg of rock and roll"),
    ("  many \t spaces\n here ", None, "many spaces here"),
    ("Hello, World 7!", {"case": "keep", "punctuation": "keep"}, "Hello, World seven!"),
    ("Hello world", {"case": "upper"}, "HELLO WORLD"),
    ("It's 10 o'clock", {"numbers": "keep"}, "it's 10 o'clock"),
    ("Don't", {"apostrophes": "strip"}, "dont"),
    ("Caf\u00e9 \uff21", None, "caf\u00e9 a"),  # NFKC folds the full-width letter
    ("?!...", None, ""),
])
def test_normalize_text(text: str, params: dict | None, expected: str) -> None:
    assert normalize_text(text, params) == expected


def test_text_params_are_checked() -> None:
    assert check_text_params({"case": "keep"})["numbers"] == "words"
    with pytest.raises(ValueError, match="unknown text normalisation parameter"):
        check_text_params({"lowercase": True})
    with pytest.raises(ValueError, match="case='title'"):
        check_text_params({"case": "title"})


def test_character_set_and_unknown_characters() -> None:
    assert character_set(["ab c", "ca'b"]) == {"a", "b", "c", " ", "'"}
    assert unknown_characters("caf\u00e9 2", LETTERS) == ["2", "\u00e9"]
    assert unknown_characters("fine", LETTERS) == []
