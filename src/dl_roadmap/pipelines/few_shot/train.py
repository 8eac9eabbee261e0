"""Training the three embeddings through the core loop (``core.loop.run_loop``).

ProtoNet and Matching Networks learn episodically (Vinyals et al. 2016): every iteration
draws an N-way K-shot episode from the background classes and minimises the negative log
probability of the query labels, so training looks like testing. The baseline (Chen et al.
2019) learns an ordinary classifier over all background classes on mini-batches; its head
is thrown away and only the embedding is kept.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.core.loop import OptimizedModel, run_loop
from dl_roadmap.image.fewshot_episodes import Conv4, as_float, episode_tensors
from dl_roadmap.pipelines.few_shot.models import matching_log_probs, protonet_logits


EpisodeLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int], torch.Tensor]


def episode_loss(method: str, config: dict[str, Any]) -> EpisodeLoss:
    """(query_emb, support_emb, support_y, query_y, way) -> mean negative log p(y | x) of the queries."""
    def loss(query: torch.Tensor, support: torch.Tensor, ys: torch.Tensor, yq: torch.Tensor, way: int) -> torch.Tensor:
        if method == "protonet":
            log_p = torch.log_softmax(protonet_logits(query[None], support[None], ys[None], way), -1)[0]
        else:
            log_p = matching_log_probs(query[None], support[None], ys[None], way, config["scale"])[0]
        return F.nll_loss(log_p, yq)
    return loss


def loop_settings(config: dict[str, Any], seed: int) -> dict[str, Any]:
    return {"checkpoint_every": None, "resume": False, **config["loop"], "seed": seed}


def train_episodic(method: str, images: np.ndarray, config: dict[str, Any], trainer: dict[str, Any],
                   seed: int = 0) -> tuple[nn.Module, pd.DataFrame]:
    """ProtoNet (``method="protonet"``) or Matching Networks (``"matching"``) on episodes of
    ``images`` (C, D, H, W) uint8; the embedding after the last episode and the history."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    episode = config["episode"]
    loss_of = episode_loss(method, config)
    state = OptimizedModel(Conv4(**config["model"]), config, config["loop"]["max_iterations"])

    def step(state: OptimizedModel, context: Any) -> dict[str, float]:
        xs, ys, xq, yq = episode_tensors(images, episode["way"], episode["shot"], episode["query"], rng)
        state.model.train()
        z = state.model(torch.cat([xs, xq]).to(context.device))           # one batch: BN sees the whole episode
        support, query = z[: len(xs)], z[len(xs):]
        loss = loss_of(query, support, ys.to(context.device), yq.to(context.device), episode["way"])
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        state.optimizer.step()
        if state.scheduler is not None:
            state.scheduler.step()
        with torch.no_grad():
            log_p = (protonet_logits(query[None], support[None], ys[None].to(z.device), episode["way"])[0]
                     if method == "protonet" else
                     matching_log_probs(query[None], support[None], ys[None].to(z.device), episode["way"],
                                        config["scale"])[0])
        return {"loss": float(loss.detach()), "acc": float((log_p.argmax(1).cpu() == yq).float().mean())}

    result = run_loop(state, step, name=f"few_shot/{method}", loop_params=loop_settings(config, seed),
                      trainer_params=trainer)
    return result.state.model.eval(), result.history


class Classifier(nn.Module):
    """The baseline during training: the embedding and a linear layer over all background classes."""

    def __init__(self, embedding: Conv4, classes: int) -> None:
        super().__init__()
        self.embedding = embedding
        self.head = nn.Linear(embedding.out_features, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embedding(x))


def train_baseline(images: np.ndarray, config: dict[str, Any], trainer: dict[str, Any],
                   seed: int = 0) -> tuple[nn.Module, pd.DataFrame]:
    """An ordinary classifier of all C background classes of ``images`` (C, D, H, W), trained
    on random mini-batches; returns its embedding (the head is dropped) and the history."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    classes, drawings = images.shape[:2]
    flat = images.reshape(classes * drawings, *images.shape[2:])
    labels = torch.arange(classes).repeat_interleave(drawings)
    state = OptimizedModel(Classifier(Conv4(**config["model"]), classes), config, config["loop"]["max_iterations"])

    def step(state: OptimizedModel, context: Any) -> dict[str, float]:
        batch = rng.choice(len(flat), size=config["batch_size"], replace=False)
        state.model.train()
        logits = state.model(as_float(flat[batch]).to(context.device))
        y = labels[batch].to(context.device)
        loss = F.cross_entropy(logits, y)
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        state.optimizer.step()
        if state.scheduler is not None:
            state.scheduler.step()
        return {"loss": float(loss.detach()), "acc": float((logits.argmax(1) == y).float().mean())}

    result = run_loop(state, step, name="few_shot/baseline", loop_params=loop_settings(config, seed),
                      trainer_params=trainer)
    return result.state.model.embedding.eval(), result.history
