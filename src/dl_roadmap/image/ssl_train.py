"""Pretraining and fine-tuning for the self-supervised pipelines: every method builds on the
same ``ConvEncoder`` and trains through ``core.training.fit``.

A method config (``conf/base/parameters_self_supervised.yml``, ``methods``) names its
``kind`` and what that kind reads:

    simclr:      temperature, head {hidden, out, layers}
    moco:        temperature, queue_size, momentum, bn_splits, head
    byol:        momentum (tau_base), head, predictor_hidden
    rotation:    head {hidden}
    autoencoder: denoising ({kind, level} or null), affine (random_affine args or null)
    supervised:  model (DigitClassifier head), affine; trained with the labels (the upper reference)

plus ``augment`` (the views, ``ssl_augment``; over the shared block) and ``fit`` (over the
shared pretraining fit block).
"""

from __future__ import annotations

import copy
import logging
import math
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import TensorDataset

from dl_roadmap.core.params import deep_merge
from dl_roadmap.core.training import fit
from dl_roadmap.image.autoencoder import ConvAutoencoder, ConvEncoder, DigitClassifier, reconstruction_step
from dl_roadmap.image.classification import classification_step
from dl_roadmap.image.ssl_methods import BYOL, MoCo, RotationPrediction, SimCLR, ssl_step

logger = logging.getLogger(__name__)

KINDS = ("simclr", "moco", "byol", "rotation", "autoencoder", "supervised")


def build_encoder(params: dict[str, Any], seed: int) -> ConvEncoder:
    """A fresh ``ConvEncoder`` (``latent_dim``, ``channels``) whose weights come from ``seed``."""
    torch.manual_seed(seed)
    return ConvEncoder(int(params["latent_dim"]), tuple(params["channels"]))


def build_method(kind: str, config: dict[str, Any], encoder: ConvEncoder, total_steps: int) -> nn.Module:
    """The pretraining module of ``kind`` around ``encoder`` (every module exposes ``.encoder``)."""
    head = config.get("head", {})
    if kind == "simclr":
        return SimCLR(encoder, head, config.get("temperature", 0.5))
    if kind == "moco":
        return MoCo(encoder, head, config.get("temperature", 0.2), config.get("queue_size", 4096),
                    config.get("momentum", 0.99), config.get("bn_splits", 4))
    if kind == "byol":
        return BYOL(encoder, head, config.get("predictor_hidden", 256), config.get("momentum", 0.99), total_steps)
    if kind == "rotation":
        return RotationPrediction(encoder, head)
    if kind == "autoencoder":
        model = ConvAutoencoder(encoder.latent_dim, encoder.channels)
        model.encoder = encoder
        return model
    if kind == "supervised":
        return DigitClassifier(encoder, **config.get("model", {}))
    raise ValueError(f"kind: unknown method {kind!r}; use one of {list(KINDS)}")


def method_step(kind: str, config: dict[str, Any]) -> Any:
    """The fit step of ``kind``: the views' objective, reconstruction, or cross-entropy."""
    if kind == "autoencoder":
        return partial(reconstruction_step, denoising=config.get("denoising"), augment=config.get("affine"))
    if kind == "supervised":
        return partial(classification_step, augment=config.get("affine"))
    return partial(ssl_step, augment=config.get("augment"))


def pretrain(
    kind: str, config: dict[str, Any], splits: dict[str, np.ndarray], shared: dict[str, Any], trainer: dict[str, Any],
    name: str,
) -> tuple[ConvEncoder, pd.DataFrame]:
    """Pretrain one method on the first ``shared["images"]`` training images.

    Args:
        config: the method's block (see the module docstring).
        shared: ``images`` (how many), ``encoder``, ``augment`` and ``fit`` (defaults of every method).
    Returns:
        The trained encoder (eval mode) and the history (one row per epoch, ``method`` = name).
    """
    model, history = pretrain_model(kind, config, splits, shared, trainer, name)
    return model.encoder.eval(), history


def pretrain_model(
    kind: str, config: dict[str, Any], splits: dict[str, np.ndarray], shared: dict[str, Any], trainer: dict[str, Any],
    name: str,
) -> tuple[nn.Module, pd.DataFrame]:
    """``pretrain``, returning the whole trained method (encoder and heads) in eval mode."""
    config = {**config, "augment": deep_merge(shared.get("augment", {}), config.get("augment") or {})}
    fit_params = deep_merge(shared["fit"], config.get("fit") or {})
    n = min(int(shared["images"]), len(splits["train_labels"]))
    images = torch.from_numpy(splits["train_images"][:n]).float().div_(255).unsqueeze(1)
    data = (TensorDataset(images, torch.from_numpy(splits["train_labels"][:n]).long()) if kind == "supervised"
            else TensorDataset(images))
    steps = fit_params.get("steps_per_epoch") or math.ceil(n / int(fit_params.get("batch_size", 128)))
    total_steps = int(steps) * int(fit_params.get("max_epochs", 10))
    encoder = build_encoder(shared["encoder"], int(fit_params.get("seed", 0)))
    model = build_method(kind, config, encoder, total_steps)
    result = fit(model, data, None, step=method_step(kind, config), name=name, fit_params=fit_params,
                 trainer_params=trainer)
    logger.info("%s: pretrained in %.1f s", name, result.seconds)
    history = result.history.assign(method=name.split("/")[-1], seconds=result.seconds)
    return result.model.eval(), history


def fine_tune(
    encoder: ConvEncoder | None, encoder_params: dict[str, Any], images: torch.Tensor, labels: torch.Tensor,
    config: dict[str, Any], trainer: dict[str, Any], name: str, seed: int,
) -> tuple[DigitClassifier, float]:
    """A ``DigitClassifier`` on a copy of ``encoder`` (None: a fresh encoder, the from-scratch
    baseline) trained on (images, labels) for ``config["images_seen"]`` images (the labelled
    set repeated as needed), with ``config["augment"]`` (random_affine) and ``config["fit"]``.

    Returns:
        The classifier and the seconds its training took.
    """
    base = copy.deepcopy(encoder) if encoder is not None else build_encoder(encoder_params, 1000 + seed)
    torch.manual_seed(seed)
    model = DigitClassifier(base, **config.get("model", {}))
    repeats = max(1, math.ceil(int(config["images_seen"]) / len(labels)))
    data = TensorDataset(images.repeat(repeats, 1, 1, 1), labels.repeat(repeats))
    fit_params = {**config["fit"], "max_epochs": 1, "seed": seed}
    if encoder is None:   # a fresh encoder learns at the head's rate
        fit_params["optimizer"] = {**fit_params["optimizer"], "lr_scale": None}
    result = fit(model, data, None, step=partial(classification_step, augment=config.get("augment")), name=name,
                 fit_params=fit_params, trainer_params=trainer)
    return result.model, result.seconds
