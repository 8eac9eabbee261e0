"""Schema of the `deep_rl_sac` parameter block (conf/base/parameters_deep_rl_sac.yml), checked
before a run starts: an unknown key or a value out of range fails naming the key."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator, model_validator

from dl_roadmap.core.schema import Block


class EvalRun(Block):
    episodes: PositiveInt
    seed: NonNegativeInt


class GifParams(Block):
    seed: NonNegativeInt
    frames: PositiveInt
    every: PositiveInt
    max_side: PositiveInt
    frame_ms: PositiveInt


class Anchor(Block):
    return_: float = Field(alias="return")
    source: str


class AreaParameters(Block):
    env_id: str
    seeds: list[NonNegativeInt] = Field(min_length=1)
    total_steps: PositiveInt
    hidden: list[PositiveInt] = Field(min_length=1)
    lr: PositiveFloat
    buffer_size: PositiveInt
    learning_starts: NonNegativeInt
    batch_size: PositiveInt
    tau: float = Field(gt=0, le=1)
    gamma: float = Field(gt=0, le=1)
    gradient_steps: PositiveInt
    initial_alpha: PositiveFloat
    eval_every: PositiveInt
    eval_episodes: PositiveInt
    eval_seed: NonNegativeInt
    final_eval: EvalRun
    log_every: PositiveInt
    checkpoint_every: PositiveInt | None
    anchor: Anchor
    gif: GifParams

    @field_validator("env_id")
    @classmethod
    def _known(cls, value: str) -> str:
        from dl_roadmap.rl.envs import check_env_id

        return check_env_id(value, "deep_rl_sac.env_id")

    @model_validator(mode="after")
    def _budget(self) -> AreaParameters:
        if self.total_steps % self.eval_every:
            raise ValueError(f"total_steps ({self.total_steps}) must be a multiple of eval_every ({self.eval_every}), "
                             "so both implementations are evaluated at the same steps")
        if self.learning_starts >= self.total_steps:
            raise ValueError("learning_starts must be below total_steps")
        return self


PARAMETERS = AreaParameters
