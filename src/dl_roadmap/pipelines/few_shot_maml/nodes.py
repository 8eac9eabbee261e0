"""Nodes of few_shot_maml: MAML meta-trained on Omniglot episodes, second-order and
first-order (image/fewshot_maml.py), then adapted to test episodes of alphabets never seen
in training. Plain functions of plain values."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from dl_roadmap.core.loop import OptimizedModel, run_loop
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.image.fewshot_episodes import Conv4, episode_tensors, mean_and_ci
from dl_roadmap.image.fewshot_maml import adapt, initial_params, meta_loss, task_logits, transductive_batch_norm
from dl_roadmap.image.fewshot_omniglot import omniglot_splits

logger = logging.getLogger(__name__)

# Omniglot test accuracy (%), 5-way 1/5-shot, 20-way 1/5-shot, 1,200 training characters x4
# rotations: MAML, Finn et al. 2017, Table 1; first-order MAML as Nichol et al. 2018, Table 1
# lists it ("FOMAML + Transduction", Finn et al.'s first-order figures).
PUBLISHED = {"maml": {(5, 1): 98.7, (5, 5): 99.9, (20, 1): 95.8, (20, 5): 98.9},
             "first_order_maml": {(5, 1): 98.3, (5, 5): 99.2, (20, 1): 89.4, (20, 5): 97.9}}
METHODS = {"maml": True, "first_order_maml": False}   # name -> second order


def ingest(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Omniglot's training set (rotations as new classes) and the unseen-alphabet test set."""
    data, summary = omniglot_splits(params)
    logger.info("Omniglot: %d training classes, %d test characters", summary["train_classes"],
                summary["test_characters"])
    return data, summary


def meta_train(images: np.ndarray, config: dict[str, Any], second_order: bool, trainer: dict[str, Any],
               name: str) -> tuple[nn.Module, pd.DataFrame]:
    """Meta-train a Conv-4 body on tasks of ``images`` through the core loop: every iteration
    one Adam step on the mean query loss of ``meta_batch`` adapted tasks."""
    seed = config["loop"].get("seed", 0)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    task, inner = config["task"], config["inner"]
    body = transductive_batch_norm(Conv4(**config["model"]))
    state = OptimizedModel(body, config, config["loop"]["max_iterations"])

    def step(state: OptimizedModel, context: Any) -> dict[str, float]:
        tasks = [episode_tensors(images, task["way"], task["shot"], task["query"], rng)
                 for _ in range(config["meta_batch"])]
        state.model.train()
        loss, accuracy = meta_loss(state.model, tasks, task["way"], inner["steps"], inner["lr"], second_order)
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        state.optimizer.step()
        return {"loss": float(loss.detach()), "acc": accuracy}

    loop = {"checkpoint_every": None, "resume": False, **config["loop"], "seed": seed}
    result = run_loop(state, step, name=f"few_shot_maml/{name}", loop_params=loop, trainer_params=trainer)
    return result.state.model, result.history


def train_models(data: dict[str, Any], config: dict[str, Any],
                 trainer: dict[str, Any]) -> tuple[dict[str, nn.Module], pd.DataFrame]:
    """Second-order MAML and first-order MAML from the same seed and budget."""
    models, histories = {}, []
    for name, second_order in METHODS.items():
        start = time.perf_counter()
        models[name], history = meta_train(data["train"], config, second_order, trainer, name)
        logger.info("%s: %.0f s", name, time.perf_counter() - start)
        histories.append(history.assign(method=name))
    return models, pd.concat(histories, ignore_index=True)


def adapted_accuracy(body: nn.Module, episode: tuple[torch.Tensor, ...], way: int, steps: int,
                     lr: float) -> list[float]:
    """Query accuracy after 0, 1, ..., ``steps`` inner steps on the support set (first-order
    updates: nothing differentiates through a test adaptation)."""
    xs, ys, xq, yq = episode
    scores: list[float] = []

    def record(j: int, params: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            scores.append(float((task_logits(body, params, xq).argmax(1) == yq).float().mean()))

    adapt(body, initial_params(body, way), xs, ys, steps, lr, second_order=False, on_step=record)
    return scores


def evaluate(models: dict[str, nn.Module], data: dict[str, Any], params: dict[str, Any],
             config: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every model on the same test episodes of every (way, shot) setting.

    Returns:
        The results (accuracy after ``params["steps"]`` inner steps, 95% CI, published figure)
        and the inner-loop curve (mean query accuracy after 0..``curve_steps`` inner steps, over
        the first ``params["curve_episodes"]`` episodes).
    """
    rows, curves = [], []
    for way in params["ways"]:
        for shot in params["shots"]:
            seed = params["seed"] + 1000 * way + shot
            for name, body in models.items():
                rng = np.random.default_rng(seed)           # the same episodes for every model
                body.train()                                 # transductive batch norm
                start = time.perf_counter()
                final, curve = [], []
                for e in range(params["episodes"]):
                    episode = episode_tensors(data["test"], way, shot, params["query"], rng)
                    if e < params["curve_episodes"]:       # every step up to curve_steps
                        curve.append(adapted_accuracy(body, episode, way, max(params["steps"], params["curve_steps"]),
                                                      config["inner"]["lr"]))
                        final.append(curve[-1][params["steps"]])
                    else:
                        final.append(adapted_accuracy(body, episode, way, params["steps"], config["inner"]["lr"])[-1])
                mean, ci = mean_and_ci(np.array(final))
                rows.append({"method": name, "way": way, "shot": shot, "episodes": params["episodes"],
                             "inner_steps": params["steps"], "accuracy": 100 * mean, "ci95": 100 * ci,
                             "published": PUBLISHED[name].get((way, shot), np.nan),
                             "seconds_per_episode": (time.perf_counter() - start) / params["episodes"]})
                curves += [{"method": name, "way": way, "shot": shot, "step": j, "accuracy": 100 * a}
                           for j, a in enumerate(np.array(curve).mean(axis=0))]
    return pd.DataFrame(rows), pd.DataFrame(curves)


def summary_metrics(results: pd.DataFrame) -> dict[str, dict[str, float]]:
    """``<method>_<way>way_<shot>shot_acc`` and ``_ci95`` for MLflow."""
    metrics = {}
    for row in results.itertuples():
        metrics[f"{row.method}_{row.way}way_{row.shot}shot_acc"] = row.accuracy
        metrics[f"{row.method}_{row.way}way_{row.shot}shot_ci95"] = row.ci95
    return metrics_for_mlflow(metrics)


def log_model(models: dict[str, nn.Module]) -> nn.Module:
    """The second-order meta-learned body for MLflow: float (N, 1, 28, 28) in [0, 1] (ink = 1)
    -> features (N, channels), batch norm from the batch itself; adapt a zero head (and the
    body) by a few gradient steps on a support set (``fewshot_maml.adapt``)."""
    return models["maml"]
