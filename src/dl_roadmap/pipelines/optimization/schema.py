"""Schema of the ``optimization`` parameter block (conf/base/parameters_optimization.yml),
checked before a run starts (core/schema.py).

Variants are fit blocks over the shared one (top level: an ``optimizer`` replaces the
shared optimizer whole), and ``batch_size: full`` means the whole training set.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PlainValidator, PositiveFloat, PositiveInt, ValidationInfo
from pydantic import field_validator, model_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.tune.schema import TuneParams, trials_train
from dl_roadmap.core.training import FitParams
from dl_roadmap.image.blocks import ACTIVATIONS, INITS
from dl_roadmap.image.schema import DataParams, MlpConfig, MlpParams
from dl_roadmap.pipelines.optimization.nodes import SEQUENCE_DEFAULTS, SMOOTHING_DEFAULTS


def _size_or_full(value: Any) -> Any:
    # One check for a count or a word: a union would report each member's failure.
    if value == "full" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise ValueError(f"a positive integer, or 'full' (the whole training set), got {value!r}")


class Fit(FitParams):
    """A fit block whose batch size may be ``full`` (full-batch gradient descent)."""

    batch_size: Annotated[Any, PlainValidator(_size_or_full)] = None


class Compare(Block):
    target_loss: PositiveFloat  # epochs and seconds until the training loss first reaches it
    variants: dict[str, Fit] = Field(min_length=1)  # name -> fit overrides


class WeightEma(Block):
    beta: float = Field(gt=0, lt=1)


class LrSweep(Block):
    variants: list[str] = Field(default=None, min_length=1)  # names of compare.variants
    lr_factors: list[PositiveFloat] = Field(default=None, min_length=1)
    train_limit: PositiveInt | None = None
    fit: Fit = None  # over each variant's fit: the sweep's (smaller) budget


class PlainNet(Block):
    """``PlainDeepNet`` arguments (models.py)."""

    activation: Literal[ACTIVATIONS] = None  # type: ignore[valid-type]
    init: Literal[INITS] = None  # type: ignore[valid-type]
    depth: PositiveInt = None
    width: PositiveInt = None
    batch_norm: bool = None
    in_features: PositiveInt = None
    classes: PositiveInt = None


class Depth(Block):
    model: PlainNet  # shared by every variant
    variants: dict[str, PlainNet] = Field(min_length=1)
    fit: Fit


class Sequences(Block):
    """The long-memory task (``SEQUENCE_DEFAULTS``): the class is written in the first steps."""

    train_size: PositiveInt = None
    val_size: PositiveInt = None
    test_size: PositiveInt = None
    length: PositiveInt = None
    classes: int = Field(default=None, ge=2)
    signal_steps: PositiveInt = None  # below length
    noise: NonNegativeFloat = None
    seed: NonNegativeInt = None

    @model_validator(mode="after")
    def _signal_inside_the_sequence(self) -> Sequences:
        steps = self.signal_steps or SEQUENCE_DEFAULTS["signal_steps"]
        length = self.length or SEQUENCE_DEFAULTS["length"]
        if steps >= length:
            raise ValueError(f"signal_steps ({steps}) must be below length ({length})")
        return self


class Rnn(Block):
    """``SequenceRNN`` arguments (features and classes come from the sequences)."""

    hidden: PositiveInt = None
    recurrent_gain: PositiveFloat = None  # the singular values of the orthogonal W_h
    nonlinearity: Literal["tanh", "relu"] = None


class Clipping(Block):
    model: Rnn
    explosion_threshold: PositiveFloat  # a step whose gradient norm exceeds it is an explosion
    variants: dict[str, Fit] = Field(min_length=1)  # name -> fit overrides
    fit: Fit


class Smoothing(Block):
    variant: str = None  # the compare variant whose per-step loss is smoothed
    sma_window: PositiveInt = None
    ema_beta: float = Field(default=None, gt=0, lt=1)


class Optimization(Block):
    data: DataParams
    model: MlpParams
    fit: Fit  # shared by every optimizer
    compare: Compare
    weight_ema: WeightEma
    lr_sweep: LrSweep
    depth: Depth
    sequences: Sequences
    clipping: Clipping
    smoothing: Smoothing
    tuning: MlpConfig  # the tune stage's starting point
    tune: TuneParams  # over tuning

    _tune = trials_train("tuning", MlpConfig)

    @field_validator("lr_sweep", "smoothing")
    @classmethod
    def _compared_variants(cls, block: LrSweep | Smoothing, info: ValidationInfo) -> LrSweep | Smoothing:
        compare = info.data.get("compare")
        if compare is None:
            return block
        if isinstance(block, LrSweep):
            named = block.variants or []
        else:
            named = [block.variant or SMOOTHING_DEFAULTS["variant"]]
        unknown = sorted(set(named) - set(compare.variants))
        if unknown:
            raise ValueError(f"{unknown} not in compare.variants {sorted(compare.variants)}")
        return block


PARAMETERS = Optimization
