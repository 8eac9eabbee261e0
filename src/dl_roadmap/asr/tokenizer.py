"""SentencePiece tokenizers for Parakeet models, laid out as NeMo reads them, and a new
tokenizer for a trained model (fine-tuning to another vocabulary).

Typical use::

    tokenizer = train_tokenizer(texts, "data/06_models/tokenizer", vocab_size=64)
    adapt_tokenizer(model, new_texts, "data/06_models/new_tokenizer", vocab_size=64)

NeMo is not imported here: ``adapt_tokenizer`` calls the model it is given."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from torch import nn

from dl_roadmap.asr.build import rebuild_transducer_loss
from dl_roadmap.asr.tdt_nemo import use_cpu_tdt_loss

TOKENIZER_KINDS = ("bpe", "unigram", "char")
# SentencePiece's own control pieces; NeMo's vocab.txt lists only the real tokens.
_SPECIAL_PIECES = {"<s>", "</s>", "<pad>", "<unk>"}
_WORD_START = "\u2581"  # SentencePiece's word-boundary marker


def train_tokenizer(texts: Iterable[str], out_dir: str | Path, vocab_size: int, kind: str = "bpe") -> Path:
    """Train a SentencePiece tokenizer laid out as NeMo's ``tokenizer: {dir, type: bpe}`` expects.

    The folder gets ``tokenizer.model``, ``tokenizer.vocab`` (SentencePiece's piece list)
    and ``vocab.txt`` (one token a line, word-initial pieces bare and inner pieces with a
    ``##`` prefix), as NeMo's tokenizer script writes them. Training is single-threaded
    on unshuffled input, so the same texts give byte-identical files. Texts are taken as
    they are (no case folding or Unicode normalisation): normalise them first.

    Args:
        texts: training transcripts (empty ones are skipped).
        out_dir: the tokenizer folder (created; files in it are replaced).
        vocab_size: the most tokens (a small corpus may give fewer); at least the number
            of distinct characters (space excluded) + 2 (word start, unknown token).
        kind: SentencePiece model type: ``"bpe"`` (default), ``"unigram"`` or ``"char"``.

    Returns:
        The tokenizer folder.

    Raises:
        ValueError: no text, an unknown kind, or a vocabulary too small for the characters.
    """
    import sentencepiece as spm

    if kind not in TOKENIZER_KINDS:
        raise ValueError(f"tokenizer kind must be one of {TOKENIZER_KINDS}, got {kind!r}")
    lines = [" ".join(str(text).split()) for text in texts]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError("train_tokenizer: no non-empty text to train on")
    n_chars = len(set("".join(lines)) - {" "}) + 1  # every character, plus the word-start piece
    if kind != "char" and vocab_size < n_chars + 1:
        raise ValueError(f"vocab_size {vocab_size} is too small: the texts use {n_chars - 1} characters, so "
                         f"at least {n_chars + 1} tokens are needed (characters, word start, unknown)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if hasattr(spm, "set_random_generator_seed"):
        spm.set_random_generator_seed(0)
    # Sentences from memory and the model into memory: a model file records its input and
    # output paths otherwise, and the same texts must give the same bytes wherever they go.
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=int(vocab_size),
        model_type=kind,
        character_coverage=1.0,
        bos_id=-1,
        eos_id=-1,
        hard_vocab_limit=False,  # a small corpus may not support vocab_size pieces
        shuffle_input_sentence=False,
        num_threads=1,
        normalization_rule_name="identity",  # decode(encode(text)) == text, so WER sees what it should
        remove_extra_whitespaces=False,
        minloglevel=2,
    )
    (out_dir / "tokenizer.model").write_bytes(model.getvalue())
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    # tokenizer.vocab as SentencePiece writes it beside a model: piece, tab, score.
    (out_dir / "tokenizer.vocab").write_text(
        "".join(f"{processor.id_to_piece(i)}\t{processor.get_score(i):g}\n" for i in range(processor.get_piece_size())),
        encoding="utf-8",
    )
    _write_vocab_txt(out_dir)
    return out_dir


def _write_vocab_txt(folder: Path) -> None:
    """vocab.txt from tokenizer.vocab in NeMo's convention (used by its BPE tokenizer wrapper)."""
    tokens = []
    for line in (folder / "tokenizer.vocab").read_text(encoding="utf-8").splitlines():
        piece = line.split("\t")[0]
        if piece in _SPECIAL_PIECES:
            continue
        if piece.startswith(_WORD_START):
            tokens.append(piece[1:] or piece)  # the bare word-start piece stays as itself
        else:
            tokens.append(f"##{piece}")
    (folder / "vocab.txt").write_text("".join(f"{token}\n" for token in tokens), encoding="utf-8")


def adapt_tokenizer(model: nn.Module, texts: Iterable[str], out_dir: str | Path, vocab_size: int,
                    kind: str = "bpe") -> Path:
    """Give a BPE model a tokenizer trained on new text (fine-tuning to another vocabulary).

    Trains a tokenizer, then NeMo's ``change_vocabulary`` replaces the decoder and joint
    (prediction network, output layer, CTC head of a hybrid) with freshly initialised ones
    sized for it; the encoder keeps its weights. NeMo 3.0 rebuilds the transducer loss
    without its configured name and arguments (a TDT model would get a plain RNN-T loss
    whose blank index counts the duration outputs), so the loss is rebuilt here as the
    model's constructor builds it, then made CPU-capable again.

    Args:
        model: a NeMo BPE model (``EncDecRNNTBPEModel``, ``EncDecCTCModelBPE``,
            ``EncDecHybridRNNTCTCBPEModel``).
        texts: training transcripts for the new tokenizer.
        out_dir: tokenizer folder; keep it until the model is saved (NeMo packs it then).
        vocab_size: the new tokenizer's size (see :func:`train_tokenizer`).
        kind: SentencePiece model type.

    Returns:
        The new tokenizer folder.

    Raises:
        TypeError: a character-vocabulary model (no tokenizer).
    """
    if not hasattr(model, "tokenizer"):
        raise TypeError(f"{type(model).__name__} has a character vocabulary, not a tokenizer; "
                        "adapt_tokenizer works on BPE models")
    tokenizer_dir = train_tokenizer(texts, out_dir, vocab_size, kind).resolve()
    model.change_vocabulary(new_tokenizer_dir=str(tokenizer_dir), new_tokenizer_type="bpe")
    if hasattr(model, "joint"):
        rebuild_transducer_loss(model)
    use_cpu_tdt_loss(model)
    return tokenizer_dir
