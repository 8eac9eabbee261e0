"""Fine-tuning pieces (dl_roadmap.asr.finetune): the fine-tuning config, SpecAugment from
parameters, freezing the encoder for N steps, the tokenizer's character set, and the
StageTask loader/callback hooks."""

from __future__ import annotations

import pytest
import torch

from dl_roadmap.asr.data import AudioTextDataset, audio_loader
from dl_roadmap.asr.finetune import (
    ASR_TASK,
    FreezeEncoderFor,
    finetune_callbacks,
    finetune_config,
    set_spec_augment,
    tokenizer_characters,
)
from dl_roadmap.asr.step import asr_step
from tests.asr.samples import COMMANDS


def test_finetune_config_checks_keys_and_values():
    assert finetune_config({"freeze_encoder_steps": "all"})["freeze_encoder_steps"] == "all"
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['freeze'\]"):
        finetune_config({"freeze": 3})
    with pytest.raises(ValueError, match="freeze_encoder_steps: a step count >= 0 or 'all', got -2"):
        finetune_config({"freeze_encoder_steps": -2})
    with pytest.raises(ValueError, match=r"spec_augment: unknown key\(s\) \['masks'\]"):
        finetune_config({"spec_augment": {"masks": 2}})
    with pytest.raises(ValueError, match="time_masks must be >= 0"):
        finetune_config({"spec_augment": {"time_masks": -1}})
    assert finetune_callbacks({"freeze_encoder_steps": 0}) == []
    assert finetune_callbacks({"freeze_encoder_steps": "all"}) == []
    assert isinstance(finetune_callbacks({"freeze_encoder_steps": 5})[0], FreezeEncoderFor)


def test_set_spec_augment_replaces_removes_and_keeps(tiny_model):
    set_spec_augment(tiny_model, {"freq_masks": 1, "time_masks": 3, "freq_width": 5, "time_width": 0.1})
    assert tiny_model.spec_augmentation is not None
    assert tiny_model.cfg.spec_augment.time_masks == 3 and tiny_model.cfg.spec_augment.freq_width == 5
    kept = tiny_model.spec_augmentation
    set_spec_augment(tiny_model, None)
    assert tiny_model.spec_augmentation is kept
    set_spec_augment(tiny_model, {"freq_masks": 0, "time_masks": 0})
    assert tiny_model.spec_augmentation is None and tiny_model.cfg.spec_augment is None


def test_tokenizer_characters(tiny_model):
    characters = tokenizer_characters(tiny_model)
    assert set("".join(COMMANDS)) <= characters
    assert not {"<", ">", "\u2581"} & characters


def test_encoder_is_frozen_for_the_first_steps_only(tiny_model, command_rows, tmp_path):
    """Two epochs of 2 steps with freeze_encoder_steps=2: the encoder is unchanged after the
    first epoch and trained after the second; the decoder trains from the start."""
    from dl_roadmap.core.training import fit

    set_spec_augment(tiny_model, {"freq_masks": 0, "time_masks": 0})
    encoder_before = [p.detach().clone() for p in tiny_model.encoder.parameters()]
    decoder_before = [p.detach().clone() for p in tiny_model.decoder.parameters()]
    seen = []

    class Spy(FreezeEncoderFor):
        def on_train_epoch_end(self, trainer, pl_module):
            seen.append([torch.equal(a, b) for a, b in zip(encoder_before, pl_module.model.encoder.parameters())])

    loader = audio_loader(AudioTextDataset(command_rows[:4]), batch_size=2, shuffle=False, bucketing=False)
    fit_params = {"max_epochs": 2, "batch_size": 2, "scheduler": {"name": "none"}, "optimizer": {"name": "AdamW", "lr": 0.01},
                  "checkpoint_dir": str(tmp_path), "resume": False, "early_stopping_patience": None}
    spy = Spy(2)
    result = fit(tiny_model, loader, loader, step=asr_step, name="freeze", fit_params=fit_params,
                 trainer_params={"accelerator": "cpu", "progress_bar": False}, callbacks=[spy])
    assert all(seen[0]), "encoder untouched during the frozen steps"
    assert not any(seen[1]), "every encoder tensor trained after unfreezing"
    assert spy.unfrozen_at == 2
    assert any(not torch.equal(a, b) for a, b in zip(decoder_before, result.model.decoder.parameters()))
    assert all(p.requires_grad for p in result.model.encoder.parameters())


def test_stage_task_uses_the_area_loader_and_callbacks(command_rows, tmp_path, monkeypatch):
    """ASR_TASK.train batches through finetune_loader (variable-length audio) and adds the
    freezing callback its config asks for; evaluate batches the same way."""
    import dl_roadmap.core.stages.task as task_module

    seen = {}

    def fake_fit(model, train, val, *, step, name, fit_params, trainer_params, callbacks):
        seen.update(train=train, val=val, callbacks=callbacks, fit_params=fit_params)
        return "result"

    monkeypatch.setattr(task_module, "fit", fake_fit)
    splits = ASR_TASK.splits({"train": command_rows, "validation": command_rows[:2], "test": command_rows[:2]})
    config = {"freeze_encoder_steps": 3, "fit": {"batch_size": 2}}
    assert ASR_TASK.train(config, splits, None, {}, name="x", model=torch.nn.Linear(1, 1)) == "result"
    first = next(iter(seen["train"]))
    assert isinstance(first[2], list) and first[0].shape[0] <= 2
    assert [type(c).__name__ for c in seen["callbacks"]] == ["FreezeEncoderFor"]
    assert seen["fit_params"]["monitor"] == "val_wer" and seen["fit_params"]["mode"] == "min"
