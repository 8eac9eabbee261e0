"""Parakeet models in ONNX: NeMo's export (dl_roadmap.asr.onnx_export), the exported graphs
in ONNX Runtime against PyTorch (onnx_check), the greedy TDT loop that decodes exported TDT
graphs and transcription with the graphs (onnx_decode), and their scores (measure.onnx_measure).

Tiny models (1 FastConformer layer, d_model 32) of three heads (TDT, RNN-T, CTC) are built
once per module, on a few noise clips; NeMo is imported once per test session. The TDT
loop is also tested alone, on hand-made logits. onnxruntime is a dependency of the
project, so its tests run everywhere."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.asr.audio import load_audio
from dl_roadmap.asr.build import build_parakeet
from dl_roadmap.asr.measure import onnx_measure
from dl_roadmap.asr.onnx_check import check_onnx
from dl_roadmap.asr.onnx_decode import greedy_tdt, onnx_transcribe
from dl_roadmap.asr.onnx_export import export_onnx
from dl_roadmap.asr.quantize import quantize_dynamic_int8
from dl_roadmap.asr.transcribe import transcribe
from tests.asr.samples import HOME, NOISE_SECONDS
from tests.asr.tiny import TINY

pytestmark = pytest.mark.usefixtures("one_thread")

ONNX_ATOL = 1e-4


def modes(model):
    return [(module.training, [p.requires_grad for p in module.parameters(recurse=False)])
            for module in model.modules()]


def scripted_joint(script, blank, n_durations, calls):
    """A joint step from a table: (frame, previous token) -> (token, index of its duration).
    Records each call's (frame, previous token, state); the state after a token is its name.
    A decoding that never ends fails after 1000 calls instead of hanging."""
    def step(frame, previous, state):
        calls.append((frame, previous, state))
        assert len(calls) <= 1000, "the decoding loop does not end"
        token, duration_index = script(frame, previous) if callable(script) else script[frame, previous]
        logits = np.zeros(blank + 1 + n_durations, dtype=np.float32)
        logits[token] = 1.0
        logits[blank + 1 + duration_index] = 2.0
        return logits, f"after {token} at {frame}"
    return step


def test_greedy_tdt_moves_by_the_predicted_durations():
    """Tokens 0-2, blank 3, durations [0, 1, 2, 4] over 9 frames: a token of duration 0 stays
    on its frame, a blank jumps 2, a token jumps 4, a blank of duration 0 still moves 1, and
    a token whose jump passes the end is kept. The prediction state moves only with tokens."""
    blank, calls = 3, []
    script = {(0, blank): (0, 0),  # token 0, stay
              (0, 0): (blank, 2),  # blank, jump 2
              (2, 0): (1, 3),      # token 1, jump 4
              (6, 1): (blank, 0),  # blank of duration 0: moves 1
              (7, 1): (2, 3)}      # token 2, jump 4: past the end (frame 11 of 9)
    tokens, frames = greedy_tdt(scripted_joint(script, blank, 4, calls), 9, [0, 1, 2, 4], blank, max_symbols=10)
    assert tokens == [0, 1, 2] and frames == [0, 2, 7]
    assert calls == [(0, blank, None), (0, 0, "after 0 at 0"), (2, 0, "after 0 at 0"), (6, 1, "after 1 at 2"),
                     (7, 1, "after 1 at 2")]


def test_greedy_tdt_caps_tokens_per_frame_and_ends():
    """A joint that always says "token 1, duration 0" emits max_symbols tokens per frame and
    then moves on; one that always says "blank, duration 0" visits every frame once."""
    always_token = lambda frame, previous: (1, 0)  # noqa: E731
    for max_symbols in (1, 3):
        calls = []
        tokens, frames = greedy_tdt(scripted_joint(always_token, 2, 2, calls), 3, [0, 1], 2, max_symbols)
        assert tokens == [1] * 3 * max_symbols and frames == [f for f in range(3) for _ in range(max_symbols)]
    calls = []
    assert greedy_tdt(scripted_joint(lambda f, p: (2, 0), 2, 2, calls), 5, [0, 1], 2, 10) == ([], [])
    assert [frame for frame, _, _ in calls] == [0, 1, 2, 3, 4]
    # argmax over each part on its own: a duration logit above every token logit changes no token
    step = lambda frame, previous, state: (np.array([0.5, 0.1, 0.2, 9.0, 0.0]), None)  # noqa: E731
    assert greedy_tdt(step, 2, [0, 1], 2, 1) == ([0, 0], [0, 1])
    with pytest.raises(ValueError, match="gave 4 logits"):
        greedy_tdt(lambda frame, previous, state: (np.zeros(4), None), 2, [0, 1], 2, 1)
    with pytest.raises(ValueError, match="max_symbols"):
        greedy_tdt(always_token, 2, [0, 1], 2, 0)
    assert greedy_tdt(always_token, 0, [0, 1], 2, 1) == ([], [])


@pytest.fixture(scope="module")
def onnx_dir(model_of, tmp_path_factory):
    """Each head's graphs, exported once."""
    exported = {}

    def get(kind):
        if kind not in exported:
            exported[kind] = tmp_path_factory.mktemp(f"onnx_{kind}")
            export_onnx(model_of(kind), exported[kind])
        return exported[kind]

    return get


def test_export_onnx_writes_nemo_layout_and_leaves_the_model(model_of, tmp_path):
    """Transducer: encoder + decoder_joint graphs; CTC: one graph. The result lists exactly
    the files written and their size; NeMo's exporter works on a copy, so the model keeps
    its modes, trainable parameters and joint settings."""
    model = model_of("tdt")
    before = modes(model)
    result = export_onnx(model, tmp_path / "tdt")
    assert result["head"] == "tdt"
    assert {key: path.name for key, path in result["parts"].items()} == {
        "encoder": "encoder-model.onnx", "decoder_joint": "decoder_joint-model.onnx"}
    assert sorted(result["files"]) == sorted((tmp_path / "tdt").iterdir())  # no staging folder left
    assert result["bytes"] == sum(path.stat().st_size for path in result["files"]) > 0
    assert modes(model) == before and model.joint.log_softmax is None

    ctc = export_onnx(model_of("ctc"), tmp_path / "ctc", name="parakeet")
    assert ctc["head"] == "ctc" and [path.name for path in ctc["files"]] == ["parakeet.onnx"]
    assert ctc["parts"] == {"model": tmp_path / "ctc" / "parakeet.onnx"}

    with pytest.raises(TypeError, match="cannot export an int8 model"):
        export_onnx(quantize_dynamic_int8(model_of("ctc")), tmp_path / "int8")


def test_onnx_helpers_refuse_missing_graphs_and_bad_signals(model_of, onnx_dir, tmp_path):
    model = model_of("tdt")
    with pytest.raises(FileNotFoundError, match="needs encoder-model.onnx, decoder_joint-model.onnx"):
        check_onnx(model, tmp_path, np.zeros(16000))
    with pytest.raises(FileNotFoundError, match="a ctc model needs model.onnx"):
        check_onnx(model_of("ctc"), onnx_dir("tdt"), np.zeros(16000))
    with pytest.raises(ValueError, match="shape"):
        check_onnx(model, onnx_dir("tdt"), np.zeros((1, 2, 16000)))
    with pytest.raises(ValueError, match="do not fit"):
        check_onnx(model, onnx_dir("tdt"), np.zeros((2, 16000)), lengths=[16000, 20000])
    with pytest.raises(TypeError, match="int8"):
        check_onnx(quantize_dynamic_int8(model), onnx_dir("tdt"), np.zeros(16000))


@pytest.mark.parametrize("kind", ["tdt", "rnnt", "ctc"])
def test_onnx_runtime_matches_pytorch(kind, model_of, onnx_dir, noise_rows):
    """On real features of clips of different lengths (a padded batch): encoder outputs (CTC:
    log-probabilities) and the decoder-joint step agree within ONNX_ATOL; greedy transcripts
    from the ONNX graphs equal PyTorch's (TDT: this module's loop, RNN-T and CTC: NeMo's)."""
    model = model_of(kind)
    before = modes(model)
    clips = [load_audio(row["audio_filepath"]) for row in noise_rows]
    check = check_onnx(model, onnx_dir(kind), clips, threads=1)
    assert check["head"] == kind and modes(model) == before
    assert check["max_abs_diff"] < ONNX_ATOL and check["reference_scale"] > 0.1
    assert len(check["transcripts_torch"]) == 3
    if kind == "ctc":
        assert check["output"] == "logprobs" and check["decoder_joint_max_abs_diff"] is None
    else:
        assert check["output"] == "encoder" and check["lengths_equal"] is True
        assert check["decoder_joint_max_abs_diff"] < ONNX_ATOL
    assert check["transcripts_match"] is True and check["transcripts_onnx"] == check["transcripts_torch"]
    assert any(check["transcripts_onnx"])  # the random model emits tokens: a real comparison


@pytest.mark.parametrize("kind", ["tdt", "rnnt", "ctc"])
def test_onnx_measure_transcribes_like_pytorch(kind, model_of, onnx_dir, noise_rows):
    """ONNX Runtime transcription (one utterance at a time) gives PyTorch's transcripts of
    each clip, scored as measure scores them."""
    model = model_of(kind)
    scores = onnx_measure(model, onnx_dir(kind), noise_rows, threads=1)
    expected = [check_onnx(model, onnx_dir(kind), load_audio(row["audio_filepath"]))["transcripts_torch"][0]
                for row in noise_rows]
    assert scores["hypotheses"] == expected
    assert onnx_transcribe(model, onnx_dir(kind), noise_rows[0]["audio_filepath"], threads=1) == expected[:1]
    if kind != "ctc":  # NeMo's own transcription agrees too
        assert expected == transcribe(model, [row["audio_filepath"] for row in noise_rows], batch_size=1)
    assert scores["utterances"] == 3 and scores["words"] == sum(len(HOME[i].split()) for i in range(3))
    assert scores["audio_seconds"] == pytest.approx(sum(NOISE_SECONDS)) and scores["rtfx"] > 0
    assert scores["wer"] >= 0 and scores["cer"] >= 0 and scores["threads"] == 1


def torch_frames(model, clip):
    """The frame of each token in the model's own (PyTorch) greedy decoding of one clip."""
    with torch.no_grad():
        signal = torch.as_tensor(clip, dtype=torch.float32)[None]
        features, lengths = model.preprocessor(input_signal=signal, length=torch.tensor([signal.shape[1]]))
        encoded, encoded_lengths = model.encoder(audio_signal=features, length=lengths)
        # the greedy decoder itself: the transcript step drops the frames unless asked for timestamps
        hypothesis = model.decoding.decoding(encoder_output=encoded, encoded_lengths=encoded_lengths)[0][0]
    assert len(hypothesis.timestamp) == len(hypothesis.y_sequence) > 0
    return [int(frame) for frame in hypothesis.timestamp]


def test_onnx_tdt_decoding_of_a_hybrid_meets_every_duration(nemo_asr, home_tokenizer, noise_rows, tmp_path):
    """A hybrid TDT + CTC model decoding with its TDT head, durations [0, 1, 3]. Its joint's
    output layer gets larger weights (an untrained one emits a token of duration 0 at
    every step, up to max_symbols per frame) and a bias towards blank and away from
    duration 0, so that PyTorch's decoding of the clips has several tokens on one frame
    and jumps over frames (blanks and tokens of each duration, 16 blanks of duration 0
    measured). ONNX Runtime decodes the exported graphs to the same transcripts."""
    torch.manual_seed(0)
    model = build_parakeet({**TINY, "decoder": "hybrid_tdt_ctc", "durations": [0, 1, 3]}, home_tokenizer).eval()
    with torch.no_grad():
        output = model.joint.joint_net[-1]  # logits: tokens, blank, durations 0, 1, 3
        output.weight.copy_(torch.randn(output.weight.shape, generator=torch.Generator().manual_seed(3)))
        output.bias.zero_()
        output.bias[-4] = 2.0
        output.bias[-3] = -3.0
    assert export_onnx(model, tmp_path)["head"] == "tdt"
    clips = [load_audio(row["audio_filepath"]) for row in noise_rows]
    steps = [np.diff(torch_frames(model, clip)) for clip in clips]
    assert any((step == 0).any() for step in steps) and any((step > 1).any() for step in steps)
    check = check_onnx(model, tmp_path, clips, threads=1)
    assert check["head"] == "tdt" and check["transcripts_match"] is True and all(check["transcripts_onnx"])
    paths = [row["audio_filepath"] for row in noise_rows]
    assert onnx_transcribe(model, tmp_path, paths, threads=1) == transcribe(model, paths, batch_size=1)
