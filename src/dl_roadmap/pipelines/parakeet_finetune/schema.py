"""Schema of the ``parakeet_finetune`` parameter block (conf/base/parameters_parakeet_finetune.yml),
checked before a run starts (core/schema.py). Keys left out take the defaults of the code
that reads them (nodes.py, compression.py, asr/finetune.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, ValidationInfo, field_validator, model_validator

from dl_roadmap.asr.schema import FinetuneParams, SourceParams, SplitParams, TextParams
from dl_roadmap.asr.tokenizer import TOKENIZER_KINDS
from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.tune.schema import TuneParams, check_tuned_config


class Data(Block):
    sources: list[SourceParams] = Field(default=None, min_length=1)  # a path, or {path, format, split...}
    text: TextParams = None
    min_duration_s: PositiveFloat = None
    max_duration_s: PositiveFloat = None
    max_reject_fraction: float = Field(default=None, ge=0, le=1)  # more rejected rows stop the run
    audio_dir: str = Field(default=None, min_length=1)  # clips converted to 16 kHz mono WAV
    split: SplitParams = None

    @field_validator("sources", mode="before")
    @classmethod
    def _paths_as_sources(cls, sources: Any) -> Any:
        # A bare path is a source with that path (asr/manifest.py read_source).
        return [{"path": source} if isinstance(source, str) else source for source in sources] \
            if isinstance(sources, list) else sources

    @model_validator(mode="after")
    def _durations_in_order(self) -> Data:
        if self.min_duration_s is not None and self.max_duration_s is not None \
                and self.min_duration_s >= self.max_duration_s:
            raise ValueError(f"min_duration_s ({self.min_duration_s}) must be below max_duration_s "
                             f"({self.max_duration_s})")
        return self


class Base(Block):
    source: str = Field(default=None, min_length=1)  # offline | path/to/model.nemo | a pretrained name
    tokenizer: Literal["keep", "adapt"] = None
    vocab_size: PositiveInt = None  # for adapt
    tokenizer_kind: Literal[TOKENIZER_KINDS] = None  # type: ignore[valid-type]
    start_dir: str = Field(default=None, min_length=1)


class Evaluate(Block):
    batch_size: PositiveInt = None
    top_errors: PositiveInt = None


class Compress(Block):
    out_dir: str = Field(default=None, min_length=1)
    onnx: bool = None
    threads: PositiveInt = None  # CPU threads while measuring (the same for every variant)
    batch_size: PositiveInt = None  # utterances per forward pass while measuring


class Explain(Block):
    utterances: PositiveInt = None
    seed: NonNegativeInt = None
    deletion_fraction: float = Field(default=None, gt=0, lt=1)  # share of the most attributed frames blanked


class ParakeetFinetune(Block):
    data: Data = None
    base: Base = None
    finetune: FinetuneParams = None  # the tune stage's starting config
    tune: TuneParams  # over finetune
    evaluate: Evaluate = None
    compress: Compress = None
    explain: Explain = None

    @field_validator("tune")
    @classmethod
    def _trials_train_the_tuning_config(cls, tune: TuneParams, info: ValidationInfo) -> TuneParams:
        return check_tuned_config(FinetuneParams, info.data.get("finetune"), tune)


PARAMETERS = ParakeetFinetune
