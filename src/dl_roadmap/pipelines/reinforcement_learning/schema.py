"""Schema of the `reinforcement_learning` parameter block (conf/base/parameters_reinforcement_learning.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator, model_validator

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.explain.schema import ExplainParams

TD = Literal["q_learning", "sarsa", "expected_sarsa"]
PG = Literal["reinforce", "reward_to_go", "baseline", "a2c"]
Probability = Field(ge=0, le=1)


class EnvSpec(Block):
    env_id: str
    kwargs: dict[str, Any] | None = None

    @field_validator("env_id")
    @classmethod
    def _known(cls, value: str) -> str:
        from dl_roadmap.rl.envs import check_env_id

        return check_env_id(value, "env_id")


class DPParams(Block):
    envs: dict[str, EnvSpec]
    gamma: float = Field(gt=0, lt=1)  # policy iteration's linear solve needs gamma < 1
    tol: PositiveFloat
    horizon_without_limit: PositiveInt
    evaluation_episodes: PositiveInt
    evaluation_seed: NonNegativeInt

    @model_validator(mode="after")
    def _pictured(self) -> DPParams:
        missing = {"frozenlake_4x4", "cliffwalking"} - set(self.envs)
        if missing:
            raise ValueError(f"envs: {sorted(missing)} must be solved (the TD sections and GIFs use them)")
        return self


class Schedule(Block):
    start: float = Probability
    end: float = Probability
    decay_fraction: float = Field(ge=0, le=1)


class FrozenLakeParams(Block):
    envs: list[str] = Field(min_length=1)
    methods: list[TD] = Field(min_length=1)
    seeds: list[NonNegativeInt] = Field(min_length=1)
    episodes: dict[str, PositiveInt]
    alpha: float = Field(gt=0, le=1)
    gamma: float = Field(gt=0, le=1)
    epsilon: Schedule | float
    checkpoints: PositiveInt
    evaluation_episodes: PositiveInt
    evaluation_seed: NonNegativeInt

    @model_validator(mode="after")
    def _episodes_for_each_env(self) -> FrozenLakeParams:
        missing = set(self.envs) - set(self.episodes)
        if missing:
            raise ValueError(f"episodes: no count for {sorted(missing)}")
        if "q_learning" not in self.methods:
            raise ValueError("methods: q_learning is needed (its FrozenLake policy is animated)")
        return self


class CliffParams(Block):
    env: str
    methods: list[TD] = Field(min_length=1)
    seeds: list[NonNegativeInt] = Field(min_length=1)
    episodes: PositiveInt
    alpha: float = Field(gt=0, le=1)
    gamma: float = Field(gt=0, le=1)
    epsilon: float = Probability
    max_steps_per_episode: PositiveInt
    burn_in: NonNegativeInt
    greedy_horizon: PositiveInt
    smoothing: PositiveInt

    @model_validator(mode="after")
    def _consistent(self) -> CliffParams:
        if self.burn_in >= self.episodes or self.smoothing > self.episodes:
            raise ValueError("burn_in and smoothing must be below episodes")
        if not {"sarsa", "q_learning"} <= set(self.methods):
            raise ValueError("methods: sarsa and q_learning are needed (Figure 6.4 and the GIFs)")
        return self


class A2CParams(Block):
    lanes: PositiveInt
    steps: PositiveInt
    lr: PositiveFloat
    gae_lambda: float = Probability
    value_coef: float = Field(ge=0)
    entropy_coef: float = Field(ge=0)
    max_grad_norm: PositiveFloat


class VarianceParams(Block):
    method: PG
    seed: NonNegativeInt
    episodes: int = Field(ge=2)
    batch_size: PositiveInt
    sample_seed: NonNegativeInt


class PGLoop(Block):
    log_every: PositiveInt = 1
    checkpoint_every: PositiveInt | None = None


class PGSelection(Block):
    every: dict[PG, PositiveInt]                # updates between greedy evaluations, per method
    episodes: PositiveInt
    seed: NonNegativeInt                        # not the final evaluation's seeds


class PGParams(Block):
    env_id: str
    observation_size: PositiveInt
    n_actions: PositiveInt
    methods: list[PG] = Field(min_length=1)
    seeds: list[NonNegativeInt] = Field(min_length=1)
    hidden: list[PositiveInt]
    gamma: float = Field(gt=0, le=1)
    lr: PositiveFloat
    value_lr: PositiveFloat
    value_steps: PositiveInt
    episodes_per_update: PositiveInt
    updates: dict[PG, PositiveInt]
    a2c: A2CParams
    loop: PGLoop
    snapshot_update: PositiveInt
    variance: VarianceParams
    selection: PGSelection
    evaluation: dict[Literal["episodes", "seed"], NonNegativeInt]
    solved_at: float
    explain_data: dict[Literal["episodes", "seed", "every"], PositiveInt | NonNegativeInt]

    @model_validator(mode="after")
    def _consistent(self) -> PGParams:
        missing = set(self.methods) - set(self.updates)
        if missing:
            raise ValueError(f"updates: no count for {sorted(missing)}")
        missing = set(self.methods) - set(self.selection.every)
        if missing:
            raise ValueError(f"selection.every: no interval for {sorted(missing)}")
        if self.selection.seed == self.evaluation["seed"]:
            raise ValueError("selection.seed: the kept policy is chosen on other episodes than it is measured on; "
                             "give it a seed other than evaluation.seed")
        if self.variance.method not in self.methods or self.variance.seed not in self.seeds:
            raise ValueError("variance: its method and seed must be among those trained")
        if self.variance.method == "a2c":
            raise ValueError("variance.method: the estimators compared are REINFORCE's; take a REINFORCE run")
        if self.snapshot_update > self.updates[self.variance.method]:
            raise ValueError(f"snapshot_update {self.snapshot_update} is past the "
                             f"{self.updates[self.variance.method]} updates of {self.variance.method}")
        return self


class GifParams(Block):
    seed: NonNegativeInt
    max_side: PositiveInt
    cartpole_frames: PositiveInt
    cartpole_every: PositiveInt
    grid_frames: PositiveInt


class ModelsParams(Block):
    log_seed: NonNegativeInt
    log: list[str] | None = None  # names of the policies to log (null: every one)
    cartpole_env_id: str
    gif: GifParams


class AreaParameters(Block):
    dp: DPParams
    frozenlake: FrozenLakeParams
    cliff: CliffParams
    policy_gradient: PGParams
    models: ModelsParams
    explain: ExplainParams

    @model_validator(mode="after")
    def _seeds_and_envs(self) -> AreaParameters:
        unknown = set(self.frozenlake.envs + [self.cliff.env]) - set(self.dp.envs)
        if unknown:
            raise ValueError(f"frozenlake.envs / cliff.env: {sorted(unknown)} are not among dp.envs")
        for block, seeds in (("frozenlake", self.frozenlake.seeds), ("cliff", self.cliff.seeds),
                             ("policy_gradient", self.policy_gradient.seeds)):
            if self.models.log_seed not in seeds:
                raise ValueError(f"models.log_seed {self.models.log_seed} is not among {block}.seeds")
        return self


PARAMETERS = AreaParameters
