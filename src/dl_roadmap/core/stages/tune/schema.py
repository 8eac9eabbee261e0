"""Schema of an area's ``tune`` block (checked before a run starts; see core/schema.py).

The blocks are documented in nodes.py, study.py and search_space.py; a search space is
checked by the stage's own ``check_search_space``, so the run refuses what the stage would.
A sampler's or pruner's options are checked against the Optuna class's arguments.

``tuned_config_problems`` checks what trials will train: the area's config with each
search-space path set to the ends of its range (or to each choice) and the trial
overrides applied, against the config's schema, so a misspelt path or a range that leaves
the config's allowed values fails before the first trial::

    @field_validator("tune")
    @classmethod
    def _trials_train_valid_configs(cls, tune, info):
        return check_tuned_config(Classifier, info.data.get("classifier"), tune)
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator
from pydantic import ValidationInfo, model_validator

from dl_roadmap.core.params import with_overrides
from dl_roadmap.core.schema import Block, schema_problems
from dl_roadmap.core.stages.tune.search_space import check_search_space

# Optuna classes by the names build_sampler and build_pruner (study.py) accept.
SAMPLERS = {"tpe": "TPESampler", "random": "RandomSampler", "grid": "GridSampler", "gp": "GPSampler",
            "cmaes": "CmaEsSampler"}
PRUNERS = {"median": "MedianPruner", "percentile": "PercentilePruner", "hyperband": "HyperbandPruner",
           "successive_halving": "SuccessiveHalvingPruner", "threshold": "ThresholdPruner", "none": "NopPruner"}


def _lower(name: Any) -> Any:
    return name.lower() if isinstance(name, str) else name


def _unknown_options(options: dict[str, Any], optuna_class: type, skip: tuple[str, ...] = ()) -> None:
    """Refuse options the Optuna class does not take, listing those it does."""
    parameters = inspect.signature(optuna_class).parameters.values()
    if any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters):
        return
    accepted = sorted(parameter.name for parameter in parameters if parameter.name not in skip)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"unknown key(s) {unknown}: not arguments of optuna's {optuna_class.__name__}, "
                         f"which accepts {accepted} (besides name)")


class SamplerParams(Block):
    """A sampler by name (any case); other keys are the sampler's own options."""

    model_config = ConfigDict(extra="allow")
    name: Literal[tuple(SAMPLERS)] = "tpe"  # type: ignore[valid-type]
    seed: NonNegativeInt | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _any_case(cls, name: Any) -> Any:
        return _lower(name)

    @model_validator(mode="after")
    def _options_of_the_sampler(self) -> SamplerParams:
        import optuna

        # The grid sampler's first argument is the grid, which the stage makes from the space.
        _unknown_options({**(self.model_extra or {}), "seed": self.seed},
                         getattr(optuna.samplers, SAMPLERS[self.name]), skip=("search_space",))
        return self


class PrunerParams(Block):
    """A pruner by name (any case); other keys are the pruner's own options."""

    model_config = ConfigDict(extra="allow")
    name: Literal[tuple(PRUNERS)] = "median"  # type: ignore[valid-type]

    @field_validator("name", mode="before")
    @classmethod
    def _any_case(cls, name: Any) -> Any:
        return _lower(name)

    @model_validator(mode="after")
    def _options_of_the_pruner(self) -> PrunerParams:
        import optuna

        _unknown_options(self.model_extra or {}, getattr(optuna.pruners, PRUNERS[self.name]))
        return self


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


def _values(spec: dict[str, Any]) -> list[Any]:
    """The values a search-space entry can give that are worth checking: its ends, its
    choices and its grid."""
    values = list(spec.get("choices", [])) + list(spec.get("grid", []))
    return values + [spec[end] for end in ("low", "high") if end in spec]


def tuned_config_problems(schema: type[BaseModel], config: BaseModel | dict[str, Any],
                          search_space: dict[str, dict[str, Any]] | None, overrides: dict[str, Any] | None,
                          space_where: str = "tune.search_space",
                          overrides_where: str = "tune.trial.overrides") -> list[str]:
    """Problems of the configs trials train: ``config`` with the trial ``overrides``, then
    each value worth checking (``_values``) at each search-space path, against ``schema``;
    each problem is named from ``space_where`` or ``overrides_where``."""
    if isinstance(config, BaseModel):
        config = config.model_dump(exclude_unset=True)
    changes = [(overrides_where, dict(overrides or {}))]
    for path, spec in check_search_space(search_space).items() if search_space else ():
        changes += [(space_where, {path: value}) for value in _values(spec)]
    problems: list[str] = []
    for where, change in changes:
        try:
            changed = with_overrides(config, change)
        except KeyError as error:  # a path through a value that is not a mapping
            problems.append(f"{where}: {error.args[0]}")
            continue
        problems += schema_problems(schema, changed, where)
        if problems and where == overrides_where:
            break  # every trial config has the overrides: their problems are the ones to fix
        config = changed if where == overrides_where else config
    return list(dict.fromkeys(problems))  # one line per problem, however many values show it


def check_tuned_config(schema: type[BaseModel], config: BaseModel | None, tune: TuneParams,
                       search_space: dict[str, dict[str, Any]] | None = None,
                       trial: TrialParams | None = None, space_where: str = "tune.search_space",
                       overrides_where: str = "tune.trial.overrides") -> TuneParams:
    """``tune`` as is, or a ValueError listing ``tuned_config_problems``. ``config`` None (it
    failed its own schema) checks nothing. ``search_space`` and ``trial`` are for areas that
    keep them outside the tune block."""
    trial = trial or tune.trial
    if config is not None:
        problems = tuned_config_problems(schema, config, search_space or tune.search_space,
                                         trial.overrides if trial is not None else None, space_where, overrides_where)
        if problems:
            raise ValueError("the configs the trials train would fail:\n    " + "\n    ".join(problems))
    return tune


def trials_train(config_field: str, config_schema: type[BaseModel]) -> Any:
    """A validator of an area block's ``tune`` field: the trials' configs (the block's
    ``config_field`` with each search-space end and the trial overrides applied) pass
    ``config_schema``. In the area's schema class: ``_tune = trials_train("tuning", MlpConfig)``."""

    def check(cls: type, tune: TuneParams, info: ValidationInfo) -> TuneParams:
        return check_tuned_config(config_schema, info.data.get(config_field), tune)

    return field_validator("tune")(classmethod(check))
