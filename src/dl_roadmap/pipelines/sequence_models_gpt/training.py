"""Training a character-level GPT by iterations (nanoGPT's recipe) through ``core.loop.run_loop``.

One iteration draws ``batch_size`` random windows of ``block_size + 1`` characters from the
training text, and takes one AdamW step on the mean next-character cross-entropy::

    L = -1/(B T) sum_b sum_t log p(x_{b,t+1} | x_{b,1..t})

Every ``eval_every`` iterations the validation loss is estimated on ``eval_batches`` random
windows of the held-out text (nanoGPT's estimate_loss, with eval_iters = 20 in its CPU
command); the best estimate's weights are kept. The learning rate warms up linearly, then
follows a cosine down to ``min_lr_ratio`` of its peak (core/optim.py's cosine schedule).
"""

from __future__ import annotations

from typing import Any

import torch

from dl_roadmap.core.loop import LoopContext
from dl_roadmap.core.optim import build_optimizer, build_scheduler
from dl_roadmap.text.transformer import GPT


def random_windows(data: torch.Tensor, block: int, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (batch, block) and their next characters (batch, block), from random offsets
    (drawn from torch's global generator, which run_loop seeds and checkpoints)."""
    starts = torch.randint(len(data) - block - 1, (batch,))
    x = torch.stack([data[s: s + block] for s in starts.tolist()])
    y = torch.stack([data[s + 1: s + block + 1] for s in starts.tolist()])
    return x, y


class LanguageModelState:
    """What changes while training: the model, its optimizer and its schedule (run_loop
    checkpoints it through state_dict/load_state_dict)."""

    def __init__(self, model: GPT, optimizer: dict[str, Any], scheduler: dict[str, Any], iterations: int):
        self.model = model
        self.optimizer = build_optimizer(model, optimizer)
        self.scheduler = build_scheduler(self.optimizer, scheduler, iterations)

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler and state["scheduler"]:
            self.scheduler.load_state_dict(state["scheduler"])


class Trainer:
    """The iterate and evaluate functions of run_loop over one train and one validation text."""

    def __init__(self, train: torch.Tensor, val: torch.Tensor, settings: dict[str, Any]):
        self.train, self.val = train, val
        self.block, self.batch = int(settings["block_size"]), int(settings["batch_size"])
        self.clip = settings.get("gradient_clip_val")
        self.eval_batches = int(settings["eval_batches"])

    def iterate(self, state: LanguageModelState, context: LoopContext) -> dict[str, float]:
        model = state.model.to(context.device).train()  # a no-op after the first call
        x, y = random_windows(self.train, self.block, self.batch)
        loss = model.loss(x.to(context.device), y.to(context.device))
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), float(self.clip))
        lr = state.optimizer.param_groups[0]["lr"]
        state.optimizer.step()
        if state.scheduler:
            state.scheduler.step()
        return {"loss": float(loss.detach()), "lr": lr}

    @torch.no_grad()
    def evaluate(self, state: LanguageModelState, context: LoopContext) -> dict[str, float]:
        model = state.model.to(context.device).eval()
        losses = []
        for _ in range(self.eval_batches):
            x, y = random_windows(self.val, self.block, self.batch)
            losses.append(float(model.loss(x.to(context.device), y.to(context.device))))
        return {"val_loss": sum(losses) / len(losses)}


@torch.no_grad()
def split_loss(model: GPT, data: torch.Tensor, batch_windows: int = 64) -> float:
    """Mean next-character loss (nats) over the whole text, cut into consecutive windows of
    block_size (each position predicted once, with 0..block_size-1 characters of context,
    the same mix as the random windows of training and of nanoGPT's estimate)."""
    model.eval()
    block = model.block_size
    count = (len(data) - 1) // block
    x = data[: count * block].view(count, block)
    y = data[1: count * block + 1].view(count, block)
    total = 0.0
    for start in range(0, count, batch_windows):
        total += float(model.loss(x[start: start + batch_windows], y[start: start + batch_windows])) \
            * len(x[start: start + batch_windows])
    return total / count
