"""Schema of the ``parakeet_base`` parameter block (conf/base/parameters_parakeet_base.yml),
checked before a run starts (core/schema.py). Keys left out take ``BASE_DEFAULTS`` (nodes.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from dl_roadmap.asr.schema import CorpusParams, ParakeetModelParams
from dl_roadmap.asr.tokenizer import TOKENIZER_KINDS
from dl_roadmap.core.schema import Block
from dl_roadmap.core.training import FitParams


class DemoCorpus(CorpusParams):
    dir: str = Field(default=None, min_length=1)  # the corpus folder


class Tokenizer(Block):
    vocab_size: PositiveInt = None
    kind: Literal[TOKENIZER_KINDS] = None  # type: ignore[valid-type]


class ParakeetBase(Block):
    corpus: DemoCorpus = None
    model_dir: str = Field(default=None, min_length=1)  # base.nemo, card.json, tokenizer/, history.csv
    validation_utterances: PositiveInt = None  # of domain A's training utterances
    tokenizer: Tokenizer = None
    model: ParakeetModelParams = None
    fit: FitParams = None  # over monitor val_wer, mode min
    eval_batch_size: PositiveInt = None
    retrain: bool = None  # true: train a new base even when a matching one is cached


PARAMETERS = ParakeetBase
