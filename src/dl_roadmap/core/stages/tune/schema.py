"""Schema of an area's ``tune`` block (checked before a run starts; see core/schema.py).

The blocks are documented in nodes.py, study.py and search_space.py; a search space is
checked by the stage's own ``check_search_space``, so the run refuses what the stage would.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.tune.search_space import check_search_space


class SamplerParams(Block):
    """A sampler by name; other keys are the sampler's own options."""

    model_config = ConfigDict(extra="allow")
    name: Literal["tpe", "random", "grid", "gp", "cmaes"] = "tpe"
    seed: NonNegativeInt | None = None


class PrunerParams(Block):
    """A pruner by name; other keys are the pruner's own options."""

    model_config = ConfigDict(extra="allow")
    name: Literal["median", "percentile", "hyperband", "successive_halving", "threshold", "none"] = "median"


class StudyParams(Block):
    name: str = Field(default="study", min_length=1)
    storage: str | None = None  # null: SQLite under <trainer.data_root>/07_model_output/<area>/tune
    n_trials: PositiveInt = 10
    timeout: PositiveFloat | None = None
    sampler: SamplerParams | None = None
    pruner: PrunerParams | None = None
    heartbeat_seconds: PositiveInt = 30
    max_retries: NonNegativeInt = 2


class TrialParams(Block):
    train_limit: PositiveInt | None = None
    overrides: dict[str, Any] | None = None  # dotted config path -> value, for trials only


class TuneParams(Block):
    """``<area>.tune``. ``search_space`` and ``trial`` may live elsewhere when the area maps
    them (hyperparameter_search shares one of each between its strategies)."""

    study: StudyParams
    search_space: dict[str, dict[str, Any]] | None = None
    trial: TrialParams | None = None

    @field_validator("search_space")
    @classmethod
    def _samplable(cls, space: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]] | None:
        if space is not None:
            check_search_space(space)  # SearchSpaceError (a ValueError) names the key
        return space
