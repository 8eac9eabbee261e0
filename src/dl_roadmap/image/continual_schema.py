"""Parameter schemas of the continual-learning study (both pipelines): the task sequence,
the training budget, each method's settings and their per-scenario overrides, the tuned config.
An unknown key or a value out of range fails before the first node, naming the key."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from dl_roadmap.core.schema import Block

Scenario = Literal["task", "domain", "class"]
Method = Literal["naive", "ewc", "si", "lwf", "replay", "agem", "joint"]


class SequenceParams(Block):
    protocol: Literal["split", "permuted"]
    tasks: int = Field(ge=2, le=50)
    seed: NonNegativeInt = 0  # the permutations

    @model_validator(mode="after")
    def _split_divides_the_digits(self) -> SequenceParams:
        if self.protocol == "split" and 10 % self.tasks:
            raise ValueError(f"split MNIST shares 10 digits between the tasks: tasks must divide 10, got {self.tasks}")
        return self


class TrainingParams(Block):
    """The network (van de Ven & Tolias: 2 hidden layers, 400 units) and the budget per task."""

    hidden: list[PositiveInt] = Field(default=[400, 400], min_length=1)
    steps_per_task: PositiveInt
    steps_per_iteration: PositiveInt  # gradient steps per core-loop iteration
    batch_size: PositiveInt = 128
    lr: PositiveFloat = 1.0e-3  # Adam
    eval_limit: PositiveInt | None = None  # test items per task in the accuracy matrix (null = all)
    curve_limit: PositiveInt | None = 500  # test items of task 1 for the forgetting curve
    eval_split: Literal["test", "val"] = "test"

    @model_validator(mode="after")
    def _whole_iterations(self) -> TrainingParams:
        if self.steps_per_task % self.steps_per_iteration:
            raise ValueError(f"steps_per_task ({self.steps_per_task}) must be a multiple of "
                             f"steps_per_iteration ({self.steps_per_iteration})")
        return self


class EwcSettings(Block):
    lambda_: NonNegativeFloat = Field(alias="lambda")  # λ of EWC's penalty
    fisher_items: PositiveInt = 500  # items of the finished task the Fisher is averaged over


class SiSettings(Block):
    c: NonNegativeFloat  # strength of SI's penalty
    xi: PositiveFloat = 0.1  # ξ, damping of Ω's denominator


class LwfSettings(Block):
    temperature: PositiveFloat = 2.0


class MemorySettings(Block):
    capacity: PositiveInt  # items the reservoir keeps (over all tasks)
    batch_size: PositiveInt  # items drawn from it per step


SETTINGS = {"ewc": EwcSettings, "si": SiSettings, "lwf": LwfSettings, "replay": MemorySettings,
            "agem": MemorySettings}


class MethodSettings(Block):
    ewc: EwcSettings
    si: SiSettings
    lwf: LwfSettings = LwfSettings()
    replay: MemorySettings
    agem: MemorySettings


class StudyParams(Block):
    """Every method over one protocol, in the three scenarios, per seed."""

    sequence: SequenceParams
    seeds: list[NonNegativeInt] = Field(min_length=1)
    methods: list[Method] = Field(min_length=1)
    training: TrainingParams
    settings: MethodSettings
    overrides: dict[Scenario, dict[Method, dict[str, Any]]] = {}  # scenario -> method -> settings on top

    @model_validator(mode="after")
    def _overrides_are_valid_settings(self) -> StudyParams:
        for scenario, methods in self.overrides.items():
            for method, values in methods.items():
                if method not in SETTINGS:
                    raise ValueError(f"overrides.{scenario}.{method}: {method} has no settings to override")
                merged = {**getattr(self.settings, method).model_dump(by_alias=True), **values}
                SETTINGS[method].model_validate(merged)
        return self


class ModelChoice(Block):
    """Which trained network is logged to MLflow."""

    scenario: Scenario = "class"
    method: Method = "replay"


class TuningConfig(Block):
    """The tune stage's config: one method in one scenario, scored on the validation split."""

    sequence: SequenceParams
    scenario: Scenario
    method: Method
    training: TrainingParams
    settings: dict[str, Any]
    seed: NonNegativeInt = 0

    @model_validator(mode="after")
    def _settings_of_the_method(self) -> TuningConfig:
        if self.method in SETTINGS:
            SETTINGS[self.method].model_validate(self.settings)
        return self
