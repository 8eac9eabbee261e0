"""Date normalisation: a date written in one of many forms -> ISO 8601 ``yyyy-mm-dd``.

    "3rd of March 2014", "03/03/14", "March 3, 2014", "lundi 3 mars 2014",
    "the third of march, twenty fourteen"                          -> "2014-03-03"

The task needs *alignment*: the output's month comes from a word in the middle of the
input in one form and from two digits at the start in another, and the year from its end.
A translation corpus cannot be had offline, so the pairs are generated: Babel writes the
dates with explicit CLDR patterns and with seven locales' own long and full styles (their
month and weekday names), num2words writes ordinals, cardinals and years in words. The
generator is the data set; it is seeded, so the same parameters give the same pairs.

Every form is unambiguous. Numeric forms put the day first (dd/MM/yy); month-first forms
always spell the month; two-digit years stand for 1950-2049 (00-49 -> 20xx, 50-99 -> 19xx),
which is why dates are drawn from that range.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

FIRST, LAST = dt.date(1950, 1, 1), dt.date(2049, 12, 31)
LOCALES = ("en", "fr", "de", "es", "it", "nl", "pt")
# Day-first numeric and spelled-month CLDR patterns (English month names unless a locale is drawn).
PATTERNS = ("dd/MM/yy", "d/M/yyyy", "dd.MM.yyyy", "dd-MM-yyyy", "yyyy/MM/dd", "d.M.yy", "d MMMM y",
            "d MMM y", "MMMM d, y", "MMM d, y", "EEEE, MMMM d, y", "EEE d MMM yyyy", "d MMMM, yyyy")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _babel_pattern(date: dt.date, rng: np.random.Generator) -> str:
    from babel.dates import format_date

    return format_date(date, format=str(rng.choice(PATTERNS)), locale="en")


def _babel_locale(date: dt.date, rng: np.random.Generator) -> str:
    """A locale's own written style: '3 mars 2014', 'Montag, 3. März 2014', '3 de marzo de 2014'.
    Only the spelled-month styles: some locales' short styles put the month first."""
    from babel.dates import format_date

    return format_date(date, format=str(rng.choice(["long", "full", "d MMMM y"])), locale=str(rng.choice(LOCALES)))


def _year_words(year: int, rng: np.random.Generator) -> str:
    from num2words import num2words

    # 'twenty fourteen' or 'two thousand and fourteen'
    return num2words(year, to="year") if rng.random() < 0.5 else num2words(year)


def _words(date: dt.date, rng: np.random.Generator) -> str:
    """Ordinals, cardinals and years in words: '3rd of March 2014', 'the third of march,
    twenty fourteen', 'March the third, 2014', 'three March two thousand and fourteen'."""
    from num2words import num2words

    month = date.strftime("%B")
    day = {0: num2words(date.day, to="ordinal_num"), 1: num2words(date.day, to="ordinal"),
           2: num2words(date.day)}[int(rng.integers(3))]
    year = _year_words(date.year, rng) if rng.random() < 0.5 else str(date.year)
    form = int(rng.integers(4))
    if form == 0:
        text = f"{day} of {month} {year}"
    elif form == 1:
        text = f"the {day} of {month}, {year}"
    elif form == 2:
        text = f"{month} the {day}, {year}"
    else:
        text = f"{date.strftime('%A')}, {day} {month} {year}"
    return text.lower() if rng.random() < 0.5 else text


FORMS: dict[str, Callable[[dt.date, np.random.Generator], str]] = {
    "babel_pattern": _babel_pattern, "babel_locale": _babel_locale, "words": _words,
}


def generate_pairs(n: int, seed: int, forms: dict[str, float] | None = None) -> pd.DataFrame:
    """``n`` distinct (input, target) pairs: a uniform date in 1950-2049 written in a form
    drawn with the given weights (default: equal).

    Returns:
        DataFrame with ``input`` (the written date), ``target`` (yyyy-mm-dd) and ``form``.
    """
    weights = forms or {name: 1.0 for name in FORMS}
    unknown = sorted(set(weights) - set(FORMS))
    if unknown:
        raise ValueError(f"forms: unknown form(s) {unknown}; known forms are {sorted(FORMS)}")
    names = list(weights)
    p = np.array([weights[k] for k in names], dtype=float)
    p /= p.sum()
    rng = np.random.default_rng(seed)
    span = (LAST - FIRST).days + 1
    rows, seen = [], set()
    while len(rows) < n:
        date = FIRST + dt.timedelta(days=int(rng.integers(span)))
        form = names[int(rng.choice(len(names), p=p))]
        text = " ".join(FORMS[form](date, rng).split())  # one space, none at the ends
        if text not in seen:
            seen.add(text)
            rows.append((text, date.isoformat(), form))
    return pd.DataFrame(rows, columns=["input", "target", "form"])


def validate_pairs(frame: pd.DataFrame, where: str, max_input_length: int) -> None:
    """Every row a real date in range written in at most ``max_input_length`` characters.

    Raises:
        ValueError: naming ``where``, the row and what is wrong with it.
    """
    missing = {"input", "target"} - set(frame.columns)
    if missing:
        raise ValueError(f"{where}: missing column(s) {sorted(missing)}")
    for row, (text, target) in enumerate(zip(frame["input"], frame["target"])):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}, row {row}: empty input")
        if len(text) > max_input_length:
            raise ValueError(f"{where}, row {row}: input {text!r} is {len(text)} characters, "
                             f"over max_input_length={max_input_length}")
        if not isinstance(target, str) or not ISO.match(target):
            raise ValueError(f"{where}, row {row}: target {target!r} is not yyyy-mm-dd")
        try:
            date = dt.date.fromisoformat(target)
        except ValueError as error:
            raise ValueError(f"{where}, row {row}: target {target!r} is not a calendar date ({error})") from None
        if not FIRST <= date <= LAST:
            raise ValueError(f"{where}, row {row}: target {target} outside {FIRST}..{LAST}")
