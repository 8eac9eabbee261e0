"""Parameter schemas of the agents every deep-RL area configures (rl/dqn.py, rl/ppo.py), in
SB3's names; the areas' own schemas (pipelines/<area>/schema.py) put them in their blocks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block


class DQNParams(Block):
    """rl.dqn.DQN_DEFAULTS."""

    total_steps: PositiveInt
    iteration_steps: PositiveInt
    n_envs: PositiveInt = 1
    learning_rate: PositiveFloat
    optimizer: Literal["adam", "rmsprop"] = "adam"
    batch_size: PositiveInt
    buffer_size: PositiveInt
    learning_starts: NonNegativeInt
    gamma: float = Field(gt=0, le=1)
    target_update_interval: PositiveInt
    train_freq: PositiveInt
    gradient_steps: PositiveInt
    exploration_fraction: float = Field(gt=0, le=1)
    epsilon_start: float = Field(default=1.0, ge=0, le=1)
    epsilon_end: float = Field(ge=0, le=1)
    max_grad_norm: PositiveFloat = 10.0
    hidden: list[PositiveInt] = Field(min_length=1)
    double: bool = True
    dueling: bool = True
    max_train_seconds: PositiveFloat | None = None


class PPOParams(Block):
    """rl.ppo.PPO_DEFAULTS."""

    total_steps: PositiveInt
    n_envs: PositiveInt
    n_steps: PositiveInt
    batch_size: PositiveInt
    n_epochs: PositiveInt
    gamma: float = Field(gt=0, le=1)
    gae_lambda: float = Field(ge=0, le=1)
    learning_rate: PositiveFloat
    lr_schedule: Literal["linear", "constant"] = "linear"
    clip_range: PositiveFloat
    clip_schedule: Literal["linear", "constant"] = "linear"
    ent_coef: float = Field(default=0.0, ge=0)
    vf_coef: float = Field(default=0.5, ge=0)
    max_grad_norm: PositiveFloat = 0.5
    normalize_advantage: bool = True
    hidden: list[PositiveInt] = Field(default=[64, 64], min_length=1)
    log_std_init: float = 0.0
    rollouts_per_iteration: PositiveInt = 1
