"""Fine-tuning a NeMo ASR model through the project's training core and shared stages.

The *fine-tuning config* is one parameter block (``parakeet_finetune.finetune``), the
config the shared tune stage samples into (``FINETUNE_DEFAULTS``)::

    freeze_encoder_steps: 0        # optimizer steps with a frozen encoder; "all" = whole run
    spec_augment: {freq_masks: 2, freq_width: 27, time_masks: 2, time_width: 0.05}
                                   # null keeps the base model's SpecAugment; masks 0 = off
    batching: {bucketing: true, max_batch_seconds: null}
    fit: {...}                     # core.training.fit parameters (batch_size, optimizer...)

``ASR_TASK`` hands the stages what they need: a fresh model from the starting checkpoint,
the training step, the datasets and the loaders, and the freezing callback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning.pytorch as L
from lightning.pytorch.callbacks import Callback
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from dl_roadmap.asr.build import freeze_encoder
from dl_roadmap.asr.data import AudioTextDataset, audio_loader
from dl_roadmap.asr.model_io import restore_nemo
from dl_roadmap.asr.nemo_config import DEFAULT_SPEC_AUGMENT
from dl_roadmap.asr.step import asr_step
from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.stages import StageTask
from dl_roadmap.core.training import StepFn, fit_config

# The base source (``parakeet_finetune.base.source``) that means the small model that
# parakeet_base trains offline, rather than a .nemo file or a pretrained name.
OFFLINE = "offline"

FINETUNE_DEFAULTS: dict[str, Any] = {
    "freeze_encoder_steps": 0,
    "spec_augment": dict(DEFAULT_SPEC_AUGMENT),
    "batching": {"bucketing": True, "max_batch_seconds": None},
    "fit": {},
}
BATCHING_DEFAULTS: dict[str, Any] = {"bucketing": True, "max_batch_seconds": None}


def finetune_config(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The fine-tuning block over its defaults, checked; errors name the key."""
    config = over_defaults(params, FINETUNE_DEFAULTS, "parakeet_finetune.finetune")
    config["batching"] = over_defaults(config["batching"], BATCHING_DEFAULTS, "parakeet_finetune.finetune.batching")
    steps = config["freeze_encoder_steps"]
    if steps != "all" and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
        raise ValueError(f"parakeet_finetune.finetune.freeze_encoder_steps: a step count >= 0 or 'all', got {steps!r}")
    if config["spec_augment"] is not None:
        config["spec_augment"] = over_defaults(config["spec_augment"], DEFAULT_SPEC_AUGMENT,
                                               "parakeet_finetune.finetune.spec_augment")
        for key in ("freq_masks", "time_masks", "freq_width"):
            if int(config["spec_augment"][key]) < 0:
                raise ValueError(f"parakeet_finetune.finetune.spec_augment.{key} must be >= 0, "
                                 f"got {config['spec_augment'][key]!r}")
    return config


def set_spec_augment(model: nn.Module, spec: Mapping[str, Any] | None) -> None:
    """Replace the model's SpecAugment (``None`` keeps the one it has; all masks 0 removes it).

    The config is updated too, so a saved ``.nemo`` restores with the same augmentation.
    """
    from nemo.collections.asr.modules import SpectrogramAugmentation
    from omegaconf import open_dict

    if spec is None:
        return
    spec = over_defaults(spec, DEFAULT_SPEC_AUGMENT, "spec_augment")
    enabled = int(spec["freq_masks"]) > 0 or int(spec["time_masks"]) > 0
    model.spec_augmentation = SpectrogramAugmentation(**spec) if enabled else None
    with open_dict(model.cfg):
        model.cfg.spec_augment = ({"_target_": "nemo.collections.asr.modules.SpectrogramAugmentation", **spec}
                                  if enabled else None)


class FreezeEncoderFor(Callback):
    """Keep the encoder frozen for the first ``steps`` optimizer steps, then train it too.

    Training only the decoder side first lets a new or shifted prediction network and joint
    settle before their gradients reach the pretrained encoder. The optimizer is built
    before training starts, with every parameter, so unfreezing needs no new optimizer
    (a frozen parameter has no gradient, and AdamW leaves it and its state untouched).
    """

    def __init__(self, steps: int):
        self.steps = int(steps)
        self.unfrozen_at: int | None = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_step < self.steps:  # a resumed run past the point starts unfrozen
            freeze_encoder(pl_module.model, True)

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int) -> None:
        if self.unfrozen_at is None and trainer.global_step >= self.steps:
            freeze_encoder(pl_module.model, False)
            self.unfrozen_at = trainer.global_step


def tokenizer_characters(model: nn.Module) -> set[str]:
    """The characters a model's vocabulary can spell (space included).

    SentencePiece models: the characters of every normal piece, with its word-boundary
    marker read as a space; text with any other character would become ``<unk>``, which
    no fine-tuning can learn. Character models: their labels.
    """
    if not hasattr(model, "tokenizer"):
        return set(model.cfg.labels)
    processor = getattr(model.tokenizer, "tokenizer", None)
    if processor is None or not hasattr(processor, "is_unknown"):
        raise TypeError(f"{type(model.tokenizer).__name__}: only SentencePiece tokenizers are supported")
    characters = {" "}
    for index in range(processor.get_piece_size()):
        if processor.is_unknown(index) or processor.is_control(index):
            continue
        characters.update(processor.id_to_piece(index).replace("\u2581", " "))
    return characters


# ---------------------------------------------------------------- what the shared stages use


def build_from_start(config: dict[str, Any], start: Mapping[str, Any]) -> nn.Module:
    """A fresh model from the starting checkpoint (``start["nemo"]``), set up by ``config``."""
    config = finetune_config(config)
    model = restore_nemo(start["nemo"])
    set_spec_augment(model, config["spec_augment"])
    if config["freeze_encoder_steps"] == "all":
        freeze_encoder(model, True)
    return model


def finetune_step(config: dict[str, Any]) -> StepFn:
    """Every config trains with the same step (loss; word errors in evaluation)."""
    return asr_step


def audio_splits(splits: Mapping[str, list[dict[str, Any]]]) -> dict[str, Dataset]:
    """Manifest rows per split -> datasets under the stage names (train, val, test)."""
    return {"train": AudioTextDataset(splits["train"]), "val": AudioTextDataset(splits["validation"]),
            "test": AudioTextDataset(splits["test"])}


def finetune_loader(dataset: Dataset, config: dict[str, Any], shuffle: bool) -> DataLoader:
    """Batches by duration (or plain) with the config's batch size and seed. A subset (a
    trial's ``train_limit``) is batched from its rows."""
    config = finetune_config(config)
    if isinstance(dataset, Subset):
        dataset = AudioTextDataset([dataset.dataset.rows[i] for i in dataset.indices])
    fit = fit_config(config["fit"])  # fit's own defaults, so the loader and fit agree
    return audio_loader(dataset, int(fit["batch_size"]), shuffle, seed=int(fit["seed"]),
                        bucketing=bool(config["batching"]["bucketing"]),
                        max_batch_seconds=config["batching"]["max_batch_seconds"])


def finetune_callbacks(config: dict[str, Any]) -> list[Callback]:
    steps = finetune_config(config)["freeze_encoder_steps"]
    return [FreezeEncoderFor(steps)] if steps != "all" and steps > 0 else []


ASR_TASK = StageTask(
    build_model=build_from_start,
    make_step=finetune_step,
    datasets=audio_splits,
    metric="wer",
    direction="minimize",
    loader=finetune_loader,
    callbacks=finetune_callbacks,
)
