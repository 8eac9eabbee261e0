"""The image-classification training step, and the step a config asks for.

A step is what ``core.training.fit`` calls on every batch: ``step(model, batch)`` returns a
dict of scalars with the ``loss`` to minimise; fit logs every other entry (``acc``) per
epoch for the train and validation splits. Steps live at module level so that ddp_spawn
workers can import them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.image.augment import random_affine


def classification_step(
    model: nn.Module, batch: Any, augment: dict | None = None, label_smoothing: float = 0.0
) -> dict[str, torch.Tensor]:
    """Cross-entropy on (augmented) images; accuracy alongside.

    ``augment``: ``random_affine`` arguments, applied while training only (null = none);
    ``label_smoothing``: the target puts 1 - s on the true class and s spread over all.
    """
    images, labels = batch
    if model.training and augment:
        images = random_affine(images, **augment)
    logits = model(images)
    return {
        "loss": F.cross_entropy(logits, labels, label_smoothing=label_smoothing),
        "acc": (logits.argmax(1) == labels).float().mean(),
    }


def classifier_step_for(config: dict[str, Any]) -> Any:
    """StageTask step factory: the classification step with the config's ``augment`` and
    ``label_smoothing`` (both optional)."""
    return partial(classification_step, augment=config.get("augment"),
                   label_smoothing=float(config.get("label_smoothing", 0.0)))
