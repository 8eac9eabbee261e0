"""Schema of the `deep_rl` parameter block (conf/base/parameters_deep_rl.yml), checked
before a run starts: an unknown key at any depth or a value out of range fails naming the
key (core/schema.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from dl_roadmap.core.schema import Block
from dl_roadmap.core.stages.compress.schema import CompressParams
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.stages.tune.schema import TuneParams, trials_train
from dl_roadmap.rl.schema import DQNParams, PPOParams


class EnvParams(Block):
    env_id: str = Field(default="CartPole-v1", min_length=1)
    seed: NonNegativeInt = 0


class EvaluationParams(Block):
    every_steps: PositiveInt     # env steps between greedy evaluations
    episodes: PositiveInt
    seed: NonNegativeInt = 1000  # evaluation episodes start from reset(seed + i)
    solved_return: float         # "solved": the first evaluation at or above this mean


class SB3DQNParams(Block):
    """rl-baselines3-zoo hyperparams/dqn.yml, CartPole-v1."""

    total_steps: PositiveInt
    learning_rate: PositiveFloat
    batch_size: PositiveInt
    buffer_size: PositiveInt
    learning_starts: NonNegativeInt
    gamma: float = Field(gt=0, le=1)
    target_update_interval: PositiveInt
    train_freq: PositiveInt
    gradient_steps: PositiveInt
    exploration_fraction: float = Field(gt=0, le=1)
    exploration_final_eps: float = Field(ge=0, le=1)
    net_arch: list[PositiveInt]


class SB3PPOParams(Block):
    """rl-baselines3-zoo hyperparams/ppo.yml, CartPole-v1 (learning rate and clip range linear to 0)."""

    total_steps: PositiveInt
    n_envs: PositiveInt
    n_steps: PositiveInt
    batch_size: PositiveInt
    gae_lambda: float = Field(ge=0, le=1)
    gamma: float = Field(gt=0, le=1)
    n_epochs: PositiveInt
    ent_coef: float = Field(ge=0)
    learning_rate: PositiveFloat
    clip_range: PositiveFloat


class SB3Params(Block):
    algorithms: list[Literal["dqn", "ppo"]]  # [] = no SB3 run in the pipeline (benchmarks/deep_rl_sb3.py runs the seeds)
    seeds: list[NonNegativeInt] = Field(min_length=1)
    dqn: SB3DQNParams
    ppo: SB3PPOParams


class CheckParams(Block):
    episodes: PositiveInt = 20
    seed: NonNegativeInt = 2000
    bar: float = 475.0


class GifParams(Block):
    seed: NonNegativeInt = 0
    max_frames: PositiveInt = 150
    every: PositiveInt = 2
    frame_ms: PositiveInt = 40


class StatesParams(Block):
    episodes: PositiveInt
    seed: NonNegativeInt = 3000
    max_steps: PositiveInt


class TuningConfig(Block):
    """The tune stage's starting point and the compress stage's scoring."""

    env: EnvParams
    evaluation: EvaluationParams
    ppo: PPOParams
    score_episodes: PositiveInt


class AreaParameters(Block):
    env: EnvParams
    evaluation: EvaluationParams
    dqn: DQNParams
    ppo: PPOParams
    sb3: SB3Params
    mlflow_check: CheckParams
    gif: GifParams
    states: StatesParams
    tuning: TuningConfig
    tune: TuneParams
    compress: CompressParams
    explain: ExplainParams

    _tune = trials_train("tuning", TuningConfig)


PARAMETERS = AreaParameters
