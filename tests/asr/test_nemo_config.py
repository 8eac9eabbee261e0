"""Parakeet parameters and the NeMo configs made from them (dl_roadmap.asr.nemo_config)."""

from __future__ import annotations

import pytest

from dl_roadmap.asr.nemo_config import parakeet_config, parakeet_params


def test_parakeet_params_are_checked_and_config_follows_them():
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['layers'\]"):
        parakeet_params({"layers": 3})
    with pytest.raises(ValueError, match="decoder must be one of"):
        parakeet_params({"decoder": "las"})
    with pytest.raises(ValueError, match="multiple of n_heads"):
        parakeet_params({"d_model": 30, "n_heads": 4})
    cfg = parakeet_config({"decoder": "hybrid_tdt_ctc", "spec_augment": {"time_masks": 5}}, "/tok")
    assert cfg["spec_augment"]["time_masks"] == 5 and cfg["spec_augment"]["freq_masks"] == 2
    assert cfg["joint"]["num_extra_outputs"] == 5 and cfg["loss"]["tdt_kwargs"]["durations"] == [0, 1, 2, 3, 4]
    assert cfg["aux_ctc"]["ctc_loss_weight"] == 0.3
    assert cfg["encoder"]["subsampling"] == "dw_striding" and cfg["encoder"]["subsampling_factor"] == 8
    assert parakeet_config({"spec_augment": None}, "/tok")["spec_augment"] is None
    rnnt = parakeet_config({"decoder": "rnnt"}, "/tok")
    assert rnnt["joint"]["num_extra_outputs"] == 0 and rnnt["loss"]["loss_name"] == "default"
    assert "joint" not in parakeet_config({"decoder": "ctc"}, "/tok")
