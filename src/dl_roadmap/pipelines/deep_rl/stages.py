"""What the shared tune, compress and explain stages need from this area (core/stages/README.md).

tune: an ``objective`` that trains PPO with one config (``tuning`` block: the zoo's PPO
settings, with the trial's learning rate, clip range and entropy coefficient) and reports
the mean greedy evaluation return at every evaluation, which Optuna's pruner reads.
compress: a policy's score is its mean return over ``score_episodes`` seeded episodes, so
the int8 policy is judged by the return it gets, not by how close its logits are.
explain: the items are observations the trained policy met; the explained value is the
preference for pushing right, logit(right) - logit(left), so a positive attribution means
"this observation pushes the cart right".
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from dl_roadmap.core.stages import StageTask
from dl_roadmap.pipelines.deep_rl.nodes import FEATURES, evaluate
from dl_roadmap.rl.networks import Deterministic, greedy_act


def ppo_objective(config: dict[str, Any], data: Any, base: Any, trainer: dict[str, Any],
                  report: Callable[[float, int], None]) -> tuple[float, nn.Module]:
    """Train PPO with ``config["ppo"]``; the best mean evaluation return and that policy."""
    from dl_roadmap.rl.envs import make_env
    from dl_roadmap.rl.ppo import train_ppo

    env, evaluation, ppo = config["env"], config["evaluation"], config["ppo"]
    every = max(1, round(int(evaluation["every_steps"]) / (int(ppo["n_envs"]) * int(ppo["n_steps"]))))
    net, result = train_ppo(lambda: make_env(env["env_id"]), ppo, seed=int(env["seed"]), name="tune/ppo",
                            evaluate=lambda n: evaluate(greedy_act(n, True), env, evaluation).mean(),
                            eval_every=every, trainer=trainer, report=report)
    return float(result.best_score), Deterministic(net).eval()


def mean_return(model: nn.Module, data: dict[str, Any], config: dict[str, Any]) -> float:
    """Mean greedy return of ``model`` (float or quantized) over the scoring episodes."""
    evaluation = {**config["evaluation"], "episodes": config["score_episodes"]}
    return float(evaluate(greedy_act(model, True), data["env"], evaluation).mean())


def push_right_preference(logits: torch.Tensor) -> torch.Tensor:
    """logit(push right) - logit(push left): > 0 where the policy pushes right."""
    return logits[:, 1] - logits[:, 0]


TASK = StageTask(
    objective=ppo_objective,
    metric="eval_return",
    direction="maximize",
    example_inputs=lambda data: data["states"],
    score=mean_return,
    explain_output=push_right_preference,
    input_kind="observation",
    feature_names=FEATURES,
)

