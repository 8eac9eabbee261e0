"""Schema of the `deep_rl_minatar` parameter block (conf/base/parameters_deep_rl_minatar.yml),
checked before a run starts: an unknown key at any depth or a value out of range fails
naming the key (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.rl.schema import DQNParams


class EnvParams(Block):
    game: Literal["Breakout", "Asterix", "Freeway", "Seaquest", "SpaceInvaders"] = "Breakout"
    sticky_action_prob: float = Field(default=0.1, ge=0, lt=1)
    seed: NonNegativeInt = 0


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
