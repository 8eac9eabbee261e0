"""Schema of the `deep_rl_mujoco` parameter block (conf/base/parameters_deep_rl_mujoco.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.rl.schema import PPOParams


class EnvParams(Block):
    env_id: str = Field(default="InvertedPendulum-v5", min_length=1)
    seed: NonNegativeInt = 0


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
