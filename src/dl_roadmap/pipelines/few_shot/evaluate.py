"""Test episodes on the held-out alphabets, scored on precomputed embeddings.

Every test image is embedded once per method; an episode then only gathers rows. All
methods are scored on the same episodes (same classes, same support and query drawings),
so their differences are paired, not luck of the draw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from dl_roadmap.image.fewshot_episodes import mean_and_ci, sample_episode
from dl_roadmap.pipelines.few_shot.models import (fit_linear_head, linear_head_logits, matching_log_probs,
                                                  protonet_logits)


def draw_episodes(num_classes: int, drawings: int, way: int, shot: int, query: int, count: int,
                  seed: int) -> dict[str, np.ndarray]:
    """``count`` episodes as index arrays: classes (E, N), support (E, N, K), query (E, N, Q)."""
    rng = np.random.default_rng(seed)
    drawn = [sample_episode(num_classes, drawings, way, shot, query, rng) for _ in range(count)]
    return {name: np.stack([d[i] for d in drawn]) for i, name in enumerate(("classes", "support", "query"))}


def gather(embeddings: torch.Tensor, classes: np.ndarray, drawings: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of (C, D, F) for each episode: (E, N*M, F) and their labels (E, N*M), class by class."""
    episodes, way, per_class = drawings.shape
    rows = embeddings[torch.as_tensor(classes)[:, :, None], torch.as_tensor(drawings)]      # (E, N, M, F)
    labels = torch.arange(way).repeat_interleave(per_class).expand(episodes, -1)
    return rows.reshape(episodes, way * per_class, -1), labels


def episode_logits(method: str, embeddings: torch.Tensor, episodes: dict[str, np.ndarray],
                   settings: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Scores (E, N*Q, N) of every query of every episode under ``method``, and the labels."""
    way = episodes["classes"].shape[1]
    support, ys = gather(embeddings, episodes["classes"], episodes["support"])
    query, yq = gather(embeddings, episodes["classes"], episodes["query"])
    if method == "protonet":
        return protonet_logits(query, support, ys, way), yq
    if method == "matching":
        return matching_log_probs(query, support, ys, way, settings["matching_scale"]), yq
    if method == "baseline":
        weight, bias = fit_linear_head(support, ys, way, **settings["head"])
        return linear_head_logits(query, weight, bias), yq
    raise ValueError(f"unknown few-shot method {method!r}")


@torch.no_grad()
def episode_accuracies(method: str, embeddings: torch.Tensor, episodes: dict[str, np.ndarray],
                       settings: dict[str, Any]) -> np.ndarray:
    """Accuracy of each episode (E,)."""
    with torch.enable_grad():                       # the baseline fits its head by gradient descent
        logits, labels = episode_logits(method, embeddings, episodes, settings)
    return (logits.argmax(-1) == labels).float().mean(-1).numpy()


def score_settings(embeddings: dict[str, torch.Tensor], params: dict[str, Any],
                   settings: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (method, way, shot): mean accuracy (%) over ``params["episodes"]`` test
    episodes and its 95% confidence half-width."""
    rows = []
    any_set = next(iter(embeddings.values()))
    for way in params["ways"]:
        for shot in params["shots"]:
            episodes = draw_episodes(any_set.shape[0], any_set.shape[1], way, shot, params["query"],
                                     params["episodes"], params["seed"] + 1000 * way + shot)
            for method, emb in embeddings.items():
                mean, ci = mean_and_ci(episode_accuracies(method, emb, episodes, settings))
                rows.append({"method": method, "way": way, "shot": shot, "episodes": params["episodes"],
                             "accuracy": 100 * mean, "ci95": 100 * ci})
    return rows


@torch.no_grad()
def one_shot_run_errors(model: torch.nn.Module, runs: list[dict[str, Any]]) -> np.ndarray:
    """Error rate of each of Lake's runs for a 1-shot nearest-prototype classifier on ``model``'s
    embeddings (each training image is its class's prototype)."""
    from dl_roadmap.image.fewshot_episodes import as_float

    model.eval()
    errors = []
    for run in runs:
        support = model(as_float(run["train_small"]))
        query = model(as_float(run["test_small"]))
        guess = protonet_logits(query[None], support[None], torch.arange(len(support))[None], len(support))[0]
        errors.append(float((guess.argmax(1).numpy() != run["answer"]).mean()))
    return np.array(errors)
