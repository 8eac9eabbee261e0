"""Generated image-caption pairs: two MNIST digits side by side (28 x 56), captioned by
where they are, in one of two word orders, so the text encoder has to read the relation:

    [7][2]  ->  "a seven left of a two"   or   "a two right of a seven"

Captions are token ids over a fixed vocabulary (0 = padding), all of one length.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
VOCABULARY = ("<pad>", "a", "left", "right", "of", *NUMBERS)
IDS = {word: i for i, word in enumerate(VOCABULARY)}
LENGTH = 6  # "a seven left of a two"


def caption(left: int, right: int, right_of: bool = False) -> str:
    """The caption of a pair; ``right_of`` picks the second word order."""
    if right_of:
        return f"a {NUMBERS[right]} right of a {NUMBERS[left]}"
    return f"a {NUMBERS[left]} left of a {NUMBERS[right]}"


def encode(text: str, length: int = LENGTH) -> np.ndarray:
    """Token ids of a caption, padded with 0 to ``length``; an unknown word is an error."""
    words = text.split()
    unknown = [w for w in words if w not in IDS]
    if unknown or len(words) > length:
        raise ValueError(f"caption {text!r}: unknown words {unknown} or longer than {length} tokens")
    return np.array([IDS[w] for w in words] + [0] * (length - len(words)), dtype=np.int64)


def make_pairs(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> dict[str, np.ndarray]:
    """``count`` pairs from the digit ``images`` (N, 28, 28) uint8 and their labels.

    Returns:
        ``images`` (count, 28, 56) uint8, ``ids`` (count, LENGTH) caption tokens,
        ``left``/``right`` digit labels and ``pair`` = 10 * left + right (the caption's meaning,
        the same for both word orders).
    """
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(images), (count, 2))
    left, right = labels[index[:, 0]], labels[index[:, 1]]
    order = rng.random(count) < 0.5
    return {
        "images": np.concatenate([images[index[:, 0]], images[index[:, 1]]], axis=2),
        "ids": np.stack([encode(caption(l, r, o)) for l, r, o in zip(left, right, order)]),
        "left": left.astype(np.int64), "right": right.astype(np.int64),
        "pair": (10 * left + right).astype(np.int64),
    }


def all_captions() -> tuple[np.ndarray, np.ndarray]:
    """The 100 meanings in the first word order: ids (100, LENGTH) and pair = 10 * left + right."""
    pairs = [(l, r) for l in range(10) for r in range(10)]
    return np.stack([encode(caption(l, r)) for l, r in pairs]), np.array([10 * l + r for l, r in pairs])


def prompts(template: str) -> np.ndarray:
    """Zero-shot prompts for the left digit: one row per class, one column per filler
    (``template`` with {cls} and {other}), ids (10, 10, LENGTH)."""
    return np.stack([[encode(template.format(cls=NUMBERS[c], other=NUMBERS[o])) for o in range(10)]
                     for c in range(10)])


def describe(pairs: dict[str, Any], rows: int) -> list[str]:
    """The captions of the first ``rows`` pairs as text."""
    return [" ".join(VOCABULARY[i] for i in ids if i) for ids in pairs["ids"][:rows]]
