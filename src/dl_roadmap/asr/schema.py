"""Schemas of the ASR library's parameter blocks (checked before a run starts; see
core/schema.py): the demo corpus, the Parakeet model sizes, SpecAugment, text
normalisation, transcript sources and the fine-tuning config. Areas compose them in their
``pipelines/<area>/schema.py``.

A field typed without ``| None`` whose default is None is an optional key that may not be
null: left out, the reading code's own default applies (``DEFAULT_CORPUS_PARAMS``,
``PARAKEET_DEFAULTS``, ``FINETUNE_DEFAULTS``...), so the values are not repeated here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field, NonNegativeFloat, NonNegativeInt, PlainValidator, PositiveFloat, PositiveInt, field_validator,
    model_validator,
)

from dl_roadmap.asr.nemo_config import DECODERS, parakeet_params
from dl_roadmap.asr.splits import SPLIT_ALIASES, SPLITS, canonical_split
from dl_roadmap.asr.tokenizer import TOKENIZER_KINDS
from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams


class CorpusDomain(Block):
    """One domain of the demo corpus (asr/corpus.py), over that domain's defaults."""

    grammar: Literal["home", "robot"] = None
    voice: str = Field(default=None, min_length=1)  # an espeak-ng voice, e.g. en-gb-scotland+f3
    rate: PositiveInt = None  # words per minute
    pitch: int = Field(default=None, ge=0, le=99)
    rate_jitter: NonNegativeInt = None
    pitch_jitter: NonNegativeInt = None
    utterances: PositiveInt = None  # training + validation
    test_utterances: PositiveInt = None


class CorpusDomains(Block):
    """The two domains the pipelines read: the base model's (a) and the fine-tuning target (b)."""

    domain_a: CorpusDomain = None
    domain_b: CorpusDomain = None


class CorpusParams(Block):
    """Parameters of ``synthesize_corpus`` (``DEFAULT_CORPUS_PARAMS``)."""

    seed: NonNegativeInt = None
    sample_rate: PositiveInt = None
    min_duration_s: PositiveFloat = None
    max_duration_s: PositiveFloat = None
    workers: PositiveInt = None
    domains: CorpusDomains = None


class SpecAugmentParams(Block):
    """SpecAugment masks (``DEFAULT_SPEC_AUGMENT``); all masks 0 turns it off."""

    freq_masks: NonNegativeInt = None
    freq_width: NonNegativeInt = None  # mel bands per mask
    time_masks: NonNegativeInt = None
    time_width: NonNegativeFloat = None  # a fraction of the clip (< 1) or frames


class ParakeetModelParams(Block):
    """Sizes of a small Parakeet-architecture model (``PARAKEET_DEFAULTS`` in asr/nemo_config.py)."""

    decoder: Literal[DECODERS] = None  # type: ignore[valid-type]
    sample_rate: PositiveInt = None
    n_mels: PositiveInt = None
    dither: NonNegativeFloat = None
    n_layers: PositiveInt = None
    d_model: PositiveInt = None
    n_heads: PositiveInt = None
    ff_expansion_factor: PositiveInt = None
    conv_kernel_size: PositiveInt = None
    subsampling_factor: PositiveInt = None
    subsampling_conv_channels: int = Field(default=None, ge=-1)  # -1 = d_model
    dropout: float = Field(default=None, ge=0, lt=1)
    pred_hidden: PositiveInt = None
    pred_rnn_layers: PositiveInt = None
    joint_hidden: PositiveInt = None
    max_symbols: PositiveInt = None
    fuse_loss_wer: bool = None
    durations: list[NonNegativeInt] = Field(default=None, min_length=1)
    tdt_sigma: NonNegativeFloat = None
    tdt_omega: NonNegativeFloat = None
    ctc_loss_weight: float = Field(default=None, ge=0, le=1)
    spec_augment: SpecAugmentParams | None = None  # null: no SpecAugment

    @model_validator(mode="after")
    def _buildable(self) -> ParakeetModelParams:
        # The sizes NeMo cannot build together (d_model and n_heads, odd kernels, powers of
        # two, TDT durations): the checks the model builder runs itself.
        parakeet_params(self.model_dump(exclude_unset=True))
        return self


class TextParams(Block):
    """Transcript normalisation (``DEFAULT_TEXT_PARAMS`` in asr/text.py)."""

    case: Literal["lower", "upper", "keep"] = None
    punctuation: Literal["strip", "keep"] = None
    apostrophes: Literal["keep", "strip"] = None
    numbers: Literal["words", "keep"] = None


class SourceParams(Block):
    """One transcript source (asr/manifest.py ``read_source``): a path and how to read it."""

    path: str = Field(min_length=1)
    format: Literal["auto", "nemo", "ljspeech", "table"] = "auto"
    split: str | None = None  # train | validation | test (or an alias such as dev)
    audio_dir: str | None = None  # tables only
    audio_column: str | None = None
    text_column: str | None = None
    delimiter: str | None = None
    ljspeech_text: Literal["normalized", "raw"] = None

    @field_validator("split")
    @classmethod
    def _known_split(cls, split: str | None) -> str | None:
        if split not in (None, "") and canonical_split(split) is None:
            raise ValueError(f"not a split name; use one of {sorted(SPLIT_ALIASES)}")
        return split


class SplitParams(Block):
    """Fractions of the rows drawn into each split (asr/splits.py), and the draw's seed."""

    fractions: dict[Literal[SPLITS], float] = None  # type: ignore[valid-type]
    seed: NonNegativeInt = None

    @model_validator(mode="after")
    def _fractions_of_one(self) -> SplitParams:
        fractions = self.fractions or {}
        if any(not 0 <= value <= 1 for value in fractions.values()):
            raise ValueError(f"fractions must be in [0, 1], got {fractions}")
        held = fractions.get("validation", 0.0) + fractions.get("test", 0.0)
        if held >= 1 or ("train" in fractions and abs(held + fractions["train"] - 1) > 1e-6):
            raise ValueError(f"fractions must sum to 1 with train > 0, got {fractions}")
        return self


class FinetuneBatching(Block):
    bucketing: bool = None  # batches of clips of similar duration
    max_batch_seconds: PositiveFloat | None = None


def _steps_or_all(value: Any) -> Any:
    # One check for a count or a word: a union would report each member's failure.
    if value == "all" or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise ValueError(f"a number of optimizer steps >= 0, or 'all' (the whole run), got {value!r}")


class FinetuneParams(Block):
    """The fine-tuning config (``FINETUNE_DEFAULTS`` in asr/finetune.py)."""

    freeze_encoder_steps: Annotated[Any, PlainValidator(_steps_or_all)] = None  # with a frozen encoder
    spec_augment: SpecAugmentParams | None = None  # null keeps the base model's SpecAugment
    batching: FinetuneBatching = None
    fit: FitParams = None

