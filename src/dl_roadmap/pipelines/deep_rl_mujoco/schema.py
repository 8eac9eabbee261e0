"""Schema of the `deep_rl_mujoco` parameter block (conf/base/parameters_deep_rl_mujoco.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block


class EnvParams(Block):
    env_id: str = Field(default="InvertedPendulum-v5", min_length=1)
    seed: NonNegativeInt = 0


class PPOParams(Block):
    """rl.ppo.PPO_DEFAULTS (SB3's names)."""

    total_steps: PositiveInt
    n_envs: PositiveInt
    n_steps: PositiveInt
    batch_size: PositiveInt
    n_epochs: PositiveInt
    gamma: float = Field(gt=0, le=1)
    gae_lambda: float = Field(ge=0, le=1)
    learning_rate: PositiveFloat
    lr_schedule: Literal["linear", "constant"] = "constant"
    clip_range: PositiveFloat
    clip_schedule: Literal["linear", "constant"] = "constant"
    ent_coef: float = Field(default=0.0, ge=0)
    vf_coef: float = Field(default=0.5, ge=0)
    max_grad_norm: PositiveFloat = 0.5
    normalize_advantage: bool = True
    hidden: list[PositiveInt] = Field(default=[64, 64], min_length=1)
    log_std_init: float = 0.0
    rollouts_per_iteration: PositiveInt = 1


class EvaluationParams(Block):
    every_steps: PositiveInt
    episodes: PositiveInt
    seed: NonNegativeInt = 1000
    max_return: PositiveFloat = 1000.0


class CheckParams(Block):
    episodes: PositiveInt = 20
    seed: NonNegativeInt = 2000
    max_return: PositiveFloat = 1000.0


class GifParams(Block):
    seed: NonNegativeInt = 0
    max_frames: PositiveInt = 120
    every: PositiveInt = 4
    frame_ms: PositiveInt = 40


class AreaParameters(Block):
    env: EnvParams
    ppo: PPOParams
    evaluation: EvaluationParams
    mlflow_check: CheckParams
    gif: GifParams


PARAMETERS = AreaParameters
