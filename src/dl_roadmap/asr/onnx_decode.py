"""Greedy decoding of exported Parakeet graphs in ONNX Runtime, and transcription with them.

The graphs are those of ``onnx_export.export_onnx``. Greedy decoding, by head (hybrids
decode with the head that ``cur_decoder`` selects)::

    head    graphs                        decoding in ONNX Runtime
    TDT     encoder + decoder_joint       this module's loop (greedy_tdt): tokens and
                                          durations, with the model's durations and
                                          max_symbols, as NeMo's greedy TDT decoding
    RNN-T   encoder + decoder_joint       NeMo's greedy loop for exported graphs
    CTC     one graph (log-probabilities) NeMo's CTC decoding

The preprocessor (audio to log-mel features) is not exported: it runs in PyTorch.
Beam search and language-model fusion are not available on the graphs. NeMo and ONNX
Runtime are imported inside the functions, so importing this module is cheap, and only
the functions that run graphs need the ``onnxruntime`` package.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from dl_roadmap.asr.audio import load_audio
from dl_roadmap.asr.onnx_export import decoding_head, onnx_parts


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError("running ONNX graphs needs the onnxruntime package (pip install onnxruntime)") from error
    return onnxruntime


def ort_session(path: Path, threads: int) -> Any:
    """An ONNX Runtime session on CPU for one graph, with ``threads`` intra-op threads."""
    ort = _onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


@functools.cache
def _greedy_rnnt_class() -> type:
    from nemo.collections.asr.parts.submodules.rnnt_greedy_decoding import (
        ExportedModelGreedyBatchedRNNTInfer,
        ONNXGreedyBatchedRNNTInfer,
    )

    class OrtGreedyRNNT(ONNXGreedyBatchedRNNTInfer):
        """NeMo's batched greedy RNN-T decoding of exported graphs, on sessions made here.

        NeMo's own constructor loads each graph into memory twice (which fails for graphs
        with external weights over 2 GB), passes its session options where onnxruntime
        expects provider options (onnxruntime logs an error and retries without them, so
        the thread count cannot be set) and finds the blank by running a batch of 257
        random inputs. Here the sessions are made from the files and the blank comes from
        the model. Decoding (``__call__``, the greedy loop, the graph calls) is NeMo's.
        """

        def __init__(self, encoder: Path, decoder_joint: Path, blank_index: int, max_symbols: int | None,
                     threads: int):
            ExportedModelGreedyBatchedRNNTInfer.__init__(self, str(encoder), str(decoder_joint), max_symbols)
            self.encoder = ort_session(encoder, threads)
            self.decoder_joint = ort_session(decoder_joint, threads)
            self.encoder_inputs = self.encoder.get_inputs()
            self.encoder_outputs = self.encoder.get_outputs()
            self.decoder_joint_inputs = self.decoder_joint.get_inputs()
            self.decoder_joint_outputs = self.decoder_joint.get_outputs()
            self._blank_index = int(blank_index)

        def _get_initial_states(self, batchsize: int) -> list[Tensor] | None:
            states = [node for node in self.decoder_joint_inputs if "state" in node.name]
            if not states:
                return None
            return [torch.zeros(*[dim if isinstance(dim, int) else batchsize for dim in node.shape])
                    for node in states]

    return OrtGreedyRNNT


def _rnnt_greedy(model: nn.Module, parts: Mapping[str, Path], threads: int) -> Any:
    from omegaconf import OmegaConf

    max_symbols = OmegaConf.select(model.cfg, "decoding.greedy.max_symbols", default=None)
    return _greedy_rnnt_class()(parts["encoder"], parts["decoder_joint"], model.decoder.blank_idx,
                                max_symbols, threads)


def greedy_tdt(step: Any, frames: int, durations: Sequence[int], blank: int, max_symbols: int | None = None
               ) -> tuple[list[int], list[int]]:
    """Greedy TDT decoding of one utterance, given one prediction + joint step.

    The rules of NeMo's greedy TDT decoding (``GreedyBatchedTDTInfer``, the default
    ``greedy_batch`` strategy, for one utterance):

    - Start at frame 0 with the blank as previous token (the prediction network's start
      symbol) and the network's initial state.
    - Each step gives joint logits at the current frame: token logits (blank last), then
      one logit per duration. The token and the duration are picked independently (argmax
      of each part; NeMo's log-softmax would not change either).
    - A non-blank token is emitted (with the current frame as its time) and becomes the
      previous token, with the state the step returned; a blank changes neither.
    - Time advances by the duration; a blank with duration 0 advances by 1 (time must move
      when nothing is emitted).
    - After ``max_symbols`` tokens emitted at one frame, a token with duration 0 also
      advances time by 1. None sets no limit (as in NeMo: a model that keeps emitting
      tokens of duration 0 then never finishes).
    - Decoding ends when time reaches ``frames``. A token emitted at the last frame is kept
      even when its duration jumps past the end.

    Args:
        step: ``step(frame, previous_token, state) -> (logits, new_state)``: the prediction
            network on ``previous_token`` from ``state`` (None: the initial state) and the
            joint on it and encoder frame ``frame``; ``logits`` is a 1-D array of
            ``blank + 1 + len(durations)`` values.
        frames: encoder frames of the utterance.
        durations: the model's durations (frames), in the order of the duration logits.
        blank: the blank's index (the last token logit: the vocabulary size).
        max_symbols: most tokens emitted at one frame (the model's
            ``decoding.greedy.max_symbols``); None for no limit.

    Returns:
        The emitted token ids and the frame of each.

    Raises:
        ValueError: no durations, a negative duration, ``max_symbols`` below 1, or a
            step whose logits do not have ``blank + 1 + len(durations)`` values.
    """
    durations = [int(d) for d in durations]
    if not durations or min(durations) < 0:
        raise ValueError(f"TDT durations must be a non-empty list of whole numbers >= 0, got {durations}")
    if max_symbols is not None and int(max_symbols) < 1:
        raise ValueError(f"max_symbols must be at least 1 (or None for no limit), got {max_symbols}")
    width = int(blank) + 1 + len(durations)
    tokens: list[int] = []
    times: list[int] = []
    previous, state = int(blank), None
    time_index, emitted_here = 0, 0  # emitted_here: tokens emitted so far at frame time_index
    while time_index < frames:
        logits, new_state = step(time_index, previous, state)
        logits = np.asarray(logits).reshape(-1)
        if logits.shape[0] != width:
            raise ValueError(f"the joint step gave {logits.shape[0]} logits; a TDT joint with blank {blank} and "
                             f"{len(durations)} durations gives {width}")
        token = int(np.argmax(logits[: blank + 1]))
        duration = durations[int(np.argmax(logits[blank + 1:]))]
        if token == blank:
            time_index += max(duration, 1)
            emitted_here = 0
            continue
        tokens.append(token)
        times.append(time_index)
        previous, state = token, new_state
        if duration > 0:
            time_index += duration
            emitted_here = 0
        else:
            emitted_here += 1
            if max_symbols is not None and emitted_here >= int(max_symbols):
                time_index += 1
                emitted_here = 0
    return tokens, times


class _OrtGreedyTDT:
    """Greedy TDT decoding of exported graphs: the encoder graph on a batch of features,
    then :func:`greedy_tdt` on each utterance with the decoder-joint graph as its step."""

    def __init__(self, encoder: Path, decoder_joint: Path, blank: int, durations: Sequence[int],
                 max_symbols: int | None, threads: int):
        self.encoder = ort_session(encoder, threads)
        self.decoder_joint = ort_session(decoder_joint, threads)
        self.blank = int(blank)
        self.durations = [int(d) for d in durations]
        self.max_symbols = None if max_symbols is None else int(max_symbols)
        inputs = self.decoder_joint.get_inputs()
        if len(inputs) < 3:
            raise ValueError(f"{decoder_joint}: a decoder-joint graph takes encoder frames, targets, target lengths "
                             f"and states; this one takes {[node.name for node in inputs]}")
        self.names = [node.name for node in inputs]
        self.token_type = _numpy_type(inputs[1].type)
        self.length_type = _numpy_type(inputs[2].type)
        self.initial_states = [np.zeros([dim if isinstance(dim, int) else 1 for dim in node.shape],
                                        dtype=_numpy_type(node.type)) for node in inputs[3:]]
        width = self.decoder_joint.get_outputs()[0].shape[-1]
        if isinstance(width, int) and width != self.blank + 1 + len(self.durations):
            raise ValueError(f"{decoder_joint} gives {width} joint outputs; the model's blank {self.blank} and "
                             f"{len(self.durations)} durations make {self.blank + 1 + len(self.durations)}")

    def __call__(self, features: Tensor, lengths: Tensor) -> list[list[int]]:
        """Token ids per utterance of a (B, n_mels, T) feature batch."""
        inputs = {"audio_signal": features.numpy(), "length": lengths.numpy()}
        encoded, encoded_lengths = self.encoder.run(None, feed(self.encoder, inputs))
        return [self.decode(encoded[row], int(encoded_lengths[row])) for row in range(encoded.shape[0])]

    def decode(self, encoded: np.ndarray, frames: int) -> list[int]:
        """Token ids of one utterance from its encoder output (D, T) and valid frame count."""
        # One contiguous (1, D, 1) block per frame, the shape the graph takes.
        columns = np.ascontiguousarray(encoded[:, :frames].T)[:, None, :, None]
        length = np.ones(1, dtype=self.length_type)
        run, names, initial = self.decoder_joint.run, self.names, self.initial_states
        n_states = len(initial)

        def step(frame: int, previous: int, state: Any) -> tuple[np.ndarray, Any]:
            values = [columns[frame], np.full((1, 1), previous, dtype=self.token_type), length,
                      *(initial if state is None else state)]
            outputs = run(None, dict(zip(names, values)))
            return outputs[0].reshape(-1), outputs[len(outputs) - n_states:]

        return greedy_tdt(step, frames, self.durations, self.blank, self.max_symbols)[0]


def _numpy_type(onnx_type: str) -> type:
    types = {"tensor(float)": np.float32, "tensor(int32)": np.int32, "tensor(int64)": np.int64,
             "tensor(float16)": np.float16, "tensor(double)": np.float64}
    if onnx_type not in types:
        raise ValueError(f"unexpected ONNX input type {onnx_type}")
    return types[onnx_type]


def _tdt_durations(model: nn.Module) -> list[int]:
    """The durations the model's TDT decoding uses.

    NeMo's transducer decoding takes them from the loss config (``loss.tdt_kwargs.durations``,
    copied into the decoding config when the decoding is set up); the decoding object
    holds them as ``model.decoding.durations``. Configs of released models also have them
    under ``decoding.durations`` and ``model_defaults.tdt_durations``, read in that order
    when the others are absent. Their count must match the joint's extra outputs."""
    from omegaconf import OmegaConf

    candidates = [getattr(getattr(model, "decoding", None), "durations", None)]
    cfg = getattr(model, "cfg", None)
    if cfg is not None:
        candidates += [OmegaConf.select(cfg, key, default=None)
                       for key in ("loss.tdt_kwargs.durations", "decoding.durations", "model_defaults.tdt_durations")]
    for durations in candidates:
        if durations is not None and len(durations) > 0:
            durations = [int(d) for d in durations]
            break
    else:
        raise ValueError(f"{type(model).__name__} has a TDT joint but no durations in its decoding or config "
                         "(decoding.durations, loss.tdt_kwargs.durations, model_defaults.tdt_durations)")
    extra = int(getattr(model.joint, "num_extra_outputs", 0))
    if len(durations) != extra:
        raise ValueError(f"the model's TDT durations {durations} do not fit its joint's {extra} duration outputs")
    return durations


def transducer_greedy(model: nn.Module, head: str, parts: Mapping[str, Path], threads: int) -> Any:
    """Greedy decoding of the exported transducer graphs: called with a feature batch and
    its lengths, gives token ids per utterance."""
    if head == "tdt":
        from omegaconf import OmegaConf

        max_symbols = OmegaConf.select(model.cfg, "decoding.greedy.max_symbols", default=None)
        return _OrtGreedyTDT(parts["encoder"], parts["decoder_joint"], model.decoder.blank_idx,
                             _tdt_durations(model), max_symbols, threads)
    greedy = _rnnt_greedy(model, parts, threads)
    return lambda features, lengths: [hyp.y_sequence.tolist() for hyp in greedy(features, lengths)]


def ctc_parts(model: nn.Module) -> tuple[nn.Module, Any]:
    """The CTC head and its decoding (a hybrid's auxiliary ones, else the model's own)."""
    if hasattr(model, "ctc_decoder"):
        return model.ctc_decoder, model.ctc_decoding
    return model.decoder, model.decoding


def require_cpu(model: nn.Module, what: str) -> None:
    """Refuse a model with parameters off the CPU (``what`` names the caller)."""
    devices = {parameter.device.type for parameter in model.parameters()}
    if devices - {"cpu"}:
        raise ValueError(f"{what} runs the model's PyTorch parts on CPU, beside ONNX Runtime's CPU provider; "
                         f"the model is on {sorted(devices)}: pass model.cpu()")


@contextmanager
def inference(model: nn.Module) -> Iterator[None]:
    """Evaluation mode without autograd; every module's own mode is restored afterwards
    (a frozen encoder stays in evaluation mode inside a training model)."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for module, training in modes:
            module.training = training


def hypothesis_texts(hypotheses: Any) -> list[str]:
    """Texts of NeMo hypotheses (or strings), whitespace collapsed."""
    if isinstance(hypotheses, tuple):  # older NeMo: (best, all)
        hypotheses = hypotheses[0]
    return [" ".join(str(getattr(hyp, "text", hyp)).split()) for hyp in hypotheses]


def ids_to_text(decoding: Any, ids: Any) -> str:
    """Token ids as text, by a NeMo decoding object (the model's tokenizer), whitespace collapsed."""
    return " ".join(decoding.decode_ids_to_str([int(i) for i in ids]).split())


def feed(session: Any, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Inputs by position (NeMo names them after the module's input types)."""
    return {node.name: value for node, value in zip(session.get_inputs(), values.values())}


def onnx_transcribe(model: nn.Module, onnx_dir: str | Path, audio: str | Path | Sequence[str | Path], *,
                    name: str = "model", threads: int | None = None) -> list[str]:
    """Transcribe audio files with exported graphs in ONNX Runtime (TDT, RNN-T and CTC heads).

    Each file is decoded and resampled to the model's rate (``load_audio``), turned into
    features by the model's preprocessor (PyTorch: it is not exported), and run through
    the graphs one file at a time (no padding, so a CTC graph needs no lengths). Greedy
    decoding, with the model's ``decoding.greedy.max_symbols``: TDT (hybrids decoding
    with their TDT head included): :func:`greedy_tdt` with the decoder-joint graph as its
    step and the model's durations; RNN-T: NeMo's greedy decoding of exported graphs;
    CTC: NeMo's CTC decoding of the graph's log-probabilities. Token ids become text
    with the model's decoding (its tokenizer). A model set to beam search is still
    decoded greedily here.

    Args:
        model: the model the graphs were exported from, on CPU (its preprocessor,
            decoding settings and tokenizer are used; an int8 copy of it serves as well).
        onnx_dir: the folder given to :func:`export_onnx`.
        audio: an audio file or a list of them.
        name: the ``name`` given to :func:`export_onnx`.
        threads: ONNX Runtime threads (default: ``torch.get_num_threads()``, as PyTorch uses).

    Returns:
        One transcript per file, in order.

    Raises:
        FileNotFoundError: graphs missing.
        AudioError: an audio file missing or unreadable.
        ValueError: a model not on CPU, or a TDT model whose durations are missing or do
            not fit its joint's outputs.
        ImportError: onnxruntime is not installed.
    """
    paths = [audio] if isinstance(audio, (str, Path)) else list(audio)
    return OnnxTranscriber(model, onnx_dir, name, threads)(paths)


class OnnxTranscriber:
    """Sessions made once; called with audio paths, returns transcripts."""

    def __init__(self, model: nn.Module, onnx_dir: str | Path, name: str, threads: int | None):
        self.model = model
        self.head = decoding_head(model)
        require_cpu(model, "ONNX transcription")
        parts = onnx_parts(onnx_dir, name, self.head)
        threads = torch.get_num_threads() if threads is None else int(threads)
        self.sample_rate = int(model.cfg.get("sample_rate", 16_000))
        if self.head == "ctc":
            self.session = ort_session(parts["model"], threads)
            self.decoding = ctc_parts(model)[1]
        else:
            self.greedy = transducer_greedy(model, self.head, parts, threads)

    def __call__(self, paths: Sequence[str | Path]) -> list[str]:
        texts = []
        with inference(self.model):
            for path in paths:
                samples = torch.from_numpy(load_audio(path, self.sample_rate))[None]
                features, lengths = self.model.preprocessor(input_signal=samples,
                                                            length=torch.tensor([samples.shape[1]]))
                # The features end with zero padding past the valid frames (one frame, or up to
                # the preprocessor's pad_to); without it every encoder output frame is a valid
                # one, which a CTC graph (no lengths output) needs.
                features = features[:, :, : int(lengths[0])]
                if self.head == "ctc":
                    inputs = {"audio_signal": features.numpy(), "length": lengths.numpy()}
                    log_probs = torch.from_numpy(self.session.run(None, feed(self.session, inputs))[0])
                    frames = torch.tensor([log_probs.shape[1]])
                    texts += hypothesis_texts(
                        self.decoding.ctc_decoder_predictions_tensor(log_probs, decoder_lengths=frames))
                else:
                    texts.append(ids_to_text(self.model.decoding, self.greedy(features, lengths)[0]))
        return texts
