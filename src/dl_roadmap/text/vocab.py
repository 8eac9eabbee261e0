"""A character vocabulary: text <-> integer ids, with padding and start symbols.

Id 0 is padding (ignored by the loss and masked out of attention), id 1 the start-of-sequence
symbol a decoder reads first, id 2 stands for a character never seen when the vocabulary
was built; the characters follow in sorted order, so the same texts give the same ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

PAD, BOS, UNK = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<unk>")


class CharVocab:
    """Characters of a corpus -> ids (see the module docstring)."""

    def __init__(self, chars: Iterable[str]):
        self.chars = sorted(set(chars))
        self.index = {c: i + len(SPECIALS) for i, c in enumerate(self.chars)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CharVocab:
        return cls(c for text in texts for c in text)

    def __len__(self) -> int:
        return len(self.chars) + len(SPECIALS)

    def encode(self, text: str) -> list[int]:
        return [self.index.get(c, UNK) for c in text]

    def decode(self, ids: Iterable[int], stop_at_pad: bool = True) -> str:
        """Ids -> text, stopping at the first padding id (unless ``stop_at_pad`` is False);
        the special symbols vanish."""
        out = []
        for i in ids:
            i = int(i)
            if i == PAD and stop_at_pad:
                break
            if i >= len(SPECIALS):
                out.append(self.chars[i - len(SPECIALS)])
        return "".join(out)

    def batch(self, texts: Sequence[str], length: int | None = None) -> torch.Tensor:
        """(N, length) ids, right-padded with PAD; ``length`` defaults to the longest text."""
        length = length or max(map(len, texts), default=0)
        out = torch.full((len(texts), length), PAD, dtype=torch.long)
        for row, text in enumerate(texts):
            ids = self.encode(text)[:length]
            out[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out

    def state(self) -> list[str]:
        """What rebuilds the vocabulary (``CharVocab(state)``)."""
        return list(self.chars)
