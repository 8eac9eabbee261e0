"""Schema of the `deep_rl_minatar` parameter block (conf/base/parameters_deep_rl_minatar.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block


class EnvParams(Block):
    game: Literal["Breakout", "Asterix", "Freeway", "Seaquest", "SpaceInvaders"] = "Breakout"
    sticky_action_prob: float = Field(default=0.1, ge=0, lt=1)
    seed: NonNegativeInt = 0


class DQNParams(Block):
    """rl.dqn.DQN_DEFAULTS, the keys this area sets."""

    total_steps: PositiveInt
    iteration_steps: PositiveInt
    n_envs: PositiveInt = 1
    learning_rate: PositiveFloat
    optimizer: Literal["adam", "rmsprop"]
    batch_size: PositiveInt
    buffer_size: PositiveInt
    learning_starts: NonNegativeInt
    gamma: float = Field(gt=0, le=1)
    target_update_interval: PositiveInt
    train_freq: PositiveInt
    gradient_steps: PositiveInt
    exploration_fraction: float = Field(gt=0, le=1)
    epsilon_start: float = Field(ge=0, le=1)
    epsilon_end: float = Field(ge=0, le=1)
    max_grad_norm: PositiveFloat
    hidden: list[PositiveInt] = Field(min_length=1)
    double: bool
    dueling: bool
    max_train_seconds: PositiveFloat | None = None


class EvaluationParams(Block):
    every: PositiveInt  # iterations between greedy evaluations
    episodes: PositiveInt
    final_episodes: PositiveInt
    max_steps: PositiveInt  # an evaluation episode is cut here


class GifParams(Block):
    seed: NonNegativeInt = 0
    max_frames: PositiveInt = 300
    frame_ms: PositiveInt = 80


class AreaParameters(Block):
    env: EnvParams
    dqn: DQNParams
    evaluation: EvaluationParams
    curve_window: PositiveInt
    gif: GifParams


PARAMETERS = AreaParameters
