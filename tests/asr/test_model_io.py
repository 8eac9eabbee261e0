"""Models on disk (dl_roadmap.asr.model_io): .nemo save and restore, the offline error of a
pretrained name, and file sizes."""

from __future__ import annotations

import random

import pytest
import torch

from dl_roadmap.asr.model_io import BaseModelUnavailableError, file_size, load_base, save_nemo
from dl_roadmap.asr.step import asr_step
from dl_roadmap.asr.tdt_nemo import CpuTDTLoss
from tests.asr.tiny import make_batch


def test_file_size_counts_files_folders_and_export_results(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"x" * 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.bin").write_bytes(b"y" * 7)
    assert file_size(tmp_path / "a.bin") == 10
    assert file_size([tmp_path / "a.bin", str(tmp_path / "sub" / "b.bin")]) == 17
    assert file_size(tmp_path) == 17
    assert file_size({"files": [tmp_path / "sub" / "b.bin"]}) == 7
    with pytest.raises(FileNotFoundError, match="nothing.bin"):
        file_size([tmp_path / "a.bin", tmp_path / "nothing.bin"])


def test_save_and_restore_round_trip(tdt_model, tmp_path):
    """save_nemo writes the file atomically (no partial file left); load_base restores the
    same model (same outputs) with the CPU TDT loss."""
    path = save_nemo(tdt_model, tmp_path / "models" / "tiny.nemo")
    assert path.is_file() and sorted(p.name for p in path.parent.iterdir()) == ["tiny.nemo"]
    restored = load_base(str(path))
    assert isinstance(restored.loss._loss, CpuTDTLoss) and not restored.training
    batch = make_batch(tdt_model)
    tdt_model.eval()
    try:
        with torch.no_grad():
            # Same draw of the TDT loss's omega (RNN-T instead of TDT with probability 0.1).
            random.seed(0)
            ours = asr_step(tdt_model, batch)
            random.seed(0)
            theirs = asr_step(restored, batch)
            encoded = tdt_model(input_signal=batch[0], input_signal_length=batch[1])[0]
            encoded_restored = restored(input_signal=batch[0], input_signal_length=batch[1])[0]
    finally:
        tdt_model.train()
    torch.testing.assert_close(encoded, encoded_restored)
    for key in ("loss", "word_errors", "words"):
        torch.testing.assert_close(ours[key], theirs[key])
    with pytest.raises(FileNotFoundError, match="missing.nemo"):
        load_base(tmp_path / "missing.nemo")


def test_load_base_offline_names_the_fix(nemo_asr, monkeypatch):
    """A pretrained name without network fails with a message that says to download the
    .nemo file and pass its path."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    name = "nvidia/parakeet-tdt-0.6b-v2"
    with pytest.raises(BaseModelUnavailableError) as caught:
        load_base(name)
    message = str(caught.value)
    assert "no network" in message and name in message
    assert "parakeet-tdt-0.6b-v2.nemo" in message and "pass the path of the .nemo file" in message
