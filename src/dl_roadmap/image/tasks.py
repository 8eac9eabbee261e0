"""Image classification as a ``StageTask``: what the shared tune, compress and explain
stages need from an area that classifies images (core/stages/task.py).

An area names only its model builder (and, if its loss is not plain cross-entropy, its
step factory); the data are the MNIST-format splits, the metric is accuracy::

    TASK = classification_task(classifier_from_config)          # mnist_autoencoder
    TASK = classification_task(build_mlp, make_step=step_for)   # regularization
    MLP_TASK                                                     # a DeepMLP from `model`
"""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from dl_roadmap.core.stages import StageTask
from dl_roadmap.image.blocks import mlp_from_config
from dl_roadmap.image.classification import classifier_step_for
from dl_roadmap.image.data import labelled_splits


def classification_task(
    build_model: Callable[[dict[str, Any], Any], nn.Module],
    make_step: Callable[[dict[str, Any]], Callable[..., Any]] = classifier_step_for,
) -> StageTask:
    """The StageTask of a classifier of MNIST-format images: ``(config, base) -> model``
    from ``build_model``, the step from ``make_step`` (default: cross-entropy with the
    config's augmentation and label smoothing), (image, label) splits, accuracy maximised."""
    return StageTask(
        build_model=build_model,
        make_step=make_step,
        datasets=labelled_splits,
        metric="acc",
        direction="maximize",
    )


# A DeepMLP built from the config's `model` block (seeded by its fit seed), trained with
# the classification step: the task of every area that tunes or explains the MLP.
MLP_TASK = classification_task(mlp_from_config)
