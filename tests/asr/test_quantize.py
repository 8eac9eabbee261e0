"""int8 copies of Parakeet models and their files (dl_roadmap.asr.quantize).

Tiny models (1 FastConformer layer, d_model 32) are built once per module, on a few noise
clips; NeMo is imported once per test session."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dl_roadmap.asr.build import build_parakeet
from dl_roadmap.asr.measure import measure
from dl_roadmap.asr.model_io import file_size, save_nemo
from dl_roadmap.asr.quantize import INT8_CONFIG_KEY, load_int8, quantize_dynamic_int8, save_int8
from dl_roadmap.asr.transcribe import transcribe
from tests.asr.tiny import TINY

pytestmark = pytest.mark.usefixtures("one_thread")


def dynamic_int8_layers(model):
    return [name for name, module in model.named_modules() if isinstance(module, torch.ao.nn.quantized.dynamic.Linear)]


def float_linear_layers(model):
    return [name for name, module in model.named_modules() if type(module) is nn.Linear]


def outputs(model, signal, lengths):
    """The model's forward output (encoder output, or CTC log-probabilities) in eval mode."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(input_signal=signal, input_signal_length=lengths)[0]
    finally:
        model.train(was_training)


def test_int8_copy_quantizes_every_linear_and_leaves_the_original(nemo_asr, home_tokenizer):
    """The copy has int8 Linear layers where the model has float ones (attention, feed-forward,
    subsampling projection, joint), is in eval mode with its own training_step; the model
    keeps its layers, weights, mode and config. A second quantization is refused."""
    torch.manual_seed(0)
    model = build_parakeet(TINY, home_tokenizer)
    weights = {key: value.clone() for key, value in model.state_dict().items()}
    linears = float_linear_layers(model)
    small = quantize_dynamic_int8(model)

    assert len(linears) == 13 and "encoder.layers.0.self_attn.linear_q" in linears and "joint.enc" in linears
    assert dynamic_int8_layers(small) == linears and float_linear_layers(small) == []
    assert not small.training and small.cfg[INT8_CONFIG_KEY]["dtype"] == "qint8"
    assert small.training_step.__wrapped__.__self__ is small  # not the original's method
    assert float_linear_layers(model) == linears and dynamic_int8_layers(model) == []
    assert model.training and INT8_CONFIG_KEY not in model.cfg
    assert model.state_dict().keys() == weights.keys()
    assert all(torch.equal(value, weights[key]) for key, value in model.state_dict().items())
    with pytest.raises(ValueError, match="no float nn.Linear"):
        quantize_dynamic_int8(small)


@pytest.mark.parametrize("kind", ["tdt", "ctc"])
def test_int8_model_stays_close_to_float_and_transcribes(kind, model_of, noise_rows):
    """int8 outputs stay within a few percent of the float ones (per-tensor int8 weights and
    activations: ~1% error per layer; 1% measured); NeMo's transcription runs on the int8
    TDT model through measure."""
    model = model_of(kind)
    small = quantize_dynamic_int8(model)
    signal = 0.05 * torch.randn(2, 16000, generator=torch.Generator().manual_seed(1))
    lengths = torch.tensor([16000, 11000])
    reference, quantized = outputs(model, signal, lengths), outputs(small, signal, lengths)
    assert quantized.shape == reference.shape
    assert float((quantized - reference).abs().max()) < 0.05 * float(reference.abs().max())
    if kind == "tdt":
        scores = measure(small, noise_rows, batch_size=2)
        assert scores["utterances"] == 3 and len(scores["hypotheses"]) == 3 and scores["rtfx"] > 0
        assert scores["hypotheses"] == transcribe(small, [row["audio_filepath"] for row in noise_rows])


@pytest.mark.parametrize("kind", ["tdt", "ctc"])
def test_int8_save_and_load_round_trip(kind, model_of, noise_rows, tmp_path):
    """One file, written atomically, smaller than the float .nemo; load_int8 rebuilds the
    same int8 layers with the same weights: identical outputs and transcripts."""
    model = model_of(kind)
    small = quantize_dynamic_int8(model)
    float_path = save_nemo(model, tmp_path / "float.nemo")
    path = save_int8(small, tmp_path / "models" / "small.int8.nemo")
    assert sorted(p.name for p in path.parent.iterdir()) == ["small.int8.nemo"]
    assert file_size(path) == path.stat().st_size
    assert file_size(path) < 0.8 * file_size(float_path)

    loaded = load_int8(path)
    assert type(loaded) is type(small) and not loaded.training
    assert dynamic_int8_layers(loaded) == dynamic_int8_layers(small)
    signal = 0.05 * torch.randn(2, 12000, generator=torch.Generator().manual_seed(2))
    lengths = torch.tensor([12000, 9000])
    torch.testing.assert_close(outputs(loaded, signal, lengths), outputs(small, signal, lengths), rtol=0, atol=0)
    if kind == "tdt":
        paths = [row["audio_filepath"] for row in noise_rows]
        assert transcribe(loaded, paths) == transcribe(small, paths)
        save_int8(loaded, tmp_path / "again.int8.nemo")  # a loaded model saves again
        assert load_int8(tmp_path / "again.int8.nemo").cfg[INT8_CONFIG_KEY] == small.cfg[INT8_CONFIG_KEY]


def test_int8_files_refuse_the_wrong_input(model_of, tmp_path):
    model = model_of("ctc")
    with pytest.raises(FileNotFoundError, match="missing.int8.nemo"):
        load_int8(tmp_path / "missing.int8.nemo")
    float_path = save_nemo(model, tmp_path / "float.nemo")
    with pytest.raises(ValueError, match="holds a float model"):
        load_int8(float_path)
    (tmp_path / "notes.txt").write_text("not an archive")
    with pytest.raises(ValueError, match="not a NeMo archive"):
        load_int8(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="not an int8 model"):
        save_int8(model, tmp_path / "float.int8.nemo")
    assert not (tmp_path / "float.int8.nemo").exists()
