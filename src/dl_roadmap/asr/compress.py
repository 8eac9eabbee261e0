"""Smaller and portable Parakeet models: int8 weights for CPU inference, and ONNX export
checked against PyTorch in ONNX Runtime.

int8
    :func:`quantize_dynamic_int8` gives a copy whose ``nn.Linear`` layers hold int8
    weights (PyTorch dynamic quantization: activations are quantized on the fly, per
    batch). The copy is an ordinary NeMo model, so NeMo's ``transcribe`` (and this
    project's ``transcribe`` and ``measure``) run on it. :func:`save_int8` and
    :func:`load_int8` write and read it as one file.
ONNX
    :func:`export_onnx` runs NeMo's exporter (a transducer becomes ``encoder-<name>.onnx``
    and ``decoder_joint-<name>.onnx``, a CTC model one ``<name>.onnx``); :func:`check_onnx`
    runs those graphs in ONNX Runtime on real features and compares them with PyTorch;
    :func:`onnx_transcribe` and :func:`onnx_measure` transcribe with them.

Greedy decoding of the exported graphs, by head (hybrids decode with the head that
``cur_decoder`` selects)::

    head    graphs                        decoding in ONNX Runtime
    TDT     encoder + decoder_joint       this module's loop (greedy_tdt): tokens and
                                          durations, with the model's durations and
                                          max_symbols, as NeMo's greedy TDT decoding
    RNN-T   encoder + decoder_joint       NeMo's greedy loop for exported graphs
    CTC     one graph (log-probabilities) NeMo's CTC decoding

The preprocessor (audio to log-mel features) is not exported: it runs in PyTorch.
Beam search and language-model fusion are not available on the graphs.

Typical use::

    small = quantize_dynamic_int8(model)
    save_int8(small, "data/06_models/parakeet.int8.nemo")
    file_size("data/06_models/parakeet.int8.nemo")        # bytes on disk
    exported = export_onnx(model, "data/06_models/onnx")  # {"head", "parts", "files", "bytes"}
    check_onnx(model, "data/06_models/onnx", load_audio("clip.wav"))
    onnx_measure(model, "data/06_models/onnx", "test_manifest.json", threads=1)  # WER, RTFx

NeMo and ONNX Runtime are imported inside the functions, so importing this module is
cheap, and only the ONNX Runtime functions need the ``onnxruntime`` package.
"""

from __future__ import annotations

import copy
import functools
import os
import shutil
import tarfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from dl_roadmap.asr.audio import load_audio
from dl_roadmap.asr.manifest import read_complete_manifest
from dl_roadmap.asr.model import save_nemo
from dl_roadmap.asr.tdt_loss import use_cpu_tdt_loss

# The config entry that marks an int8 model (written by quantize_dynamic_int8, travels in
# the saved file's model_config.yaml and tells load_int8 how to rebuild the layers).
INT8_CONFIG_KEY = "int8_quantization"
INT8_SPEC = {"method": "dynamic", "dtype": "qint8", "modules": ["torch.nn.Linear"]}


# ---------------------------------------------------------------------------- int8


def quantize_dynamic_int8(model: nn.Module) -> nn.Module:
    """An int8 copy of a NeMo ASR model: every ``nn.Linear`` dynamically quantized to qint8.

    ``torch.ao.quantization.quantize_dynamic`` stores each Linear weight as int8 with one
    scale per layer and quantizes the layer's input on the fly, so the copy needs no
    calibration data. That covers the Conformer's attention and feed-forward layers, the
    subsampling projection and the transducer joint; convolutions, normalisation, the
    prediction network's LSTM and a CTC head (a 1x1 convolution) stay float32. Dynamic
    int8 kernels run on CPU only.

    The copy is in evaluation mode, on CPU, and its config gets an ``int8_quantization``
    entry (what :func:`save_int8` and :func:`load_int8` rely on). The model passed in is
    not changed. Its data loaders and trainer, if it has any, are not copied.

    Args:
        model: a float NeMo ASR model (any device).

    Returns:
        The quantized copy.

    Raises:
        ValueError: the model has no float ``nn.Linear`` layer (it may be int8 already).
    """
    from omegaconf import open_dict

    if not any(type(module) is nn.Linear for module in model.modules()):
        raise ValueError(f"{type(model).__name__} has no float nn.Linear layer to quantize "
                         "(is it int8 already?)")
    clone = _copy_model(model).cpu().eval()
    torch.ao.quantization.quantize_dynamic(clone, {nn.Linear}, dtype=torch.qint8, inplace=True)
    if getattr(clone, "cfg", None) is not None:
        with open_dict(clone.cfg):
            clone.cfg[INT8_CONFIG_KEY] = dict(INT8_SPEC)
    return clone


def _copy_model(model: nn.Module) -> nn.Module:
    """A deep copy of a NeMo model (``copy.deepcopy`` alone fails on one).

    NeMo's constructor stores ``training_step`` on the instance wrapped in a ``wrapt``
    proxy, which refuses to be deep-copied; the copy gets its own wrapper of its own
    method instead. A trainer and data loaders are left out (set to None in the copy).
    """
    memo: dict[int, Any] = {}
    wrapped_step = vars(model).get("training_step")
    for name in ("training_step", "_trainer", "_train_dl", "_validation_dl", "_test_dl"):
        value = vars(model).get(name)
        if value is not None:
            memo[id(value)] = None
    clone = copy.deepcopy(model, memo)
    if wrapped_step is not None:
        from nemo.utils.model_utils import wrap_training_step

        clone.training_step = wrap_training_step(type(clone).training_step.__get__(clone))
    return clone


def _dynamic_int8_linears(model: nn.Module) -> list[str]:
    from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear

    return [name for name, module in model.named_modules() if isinstance(module, DynamicQuantizedLinear)]


def save_int8(model_int8: nn.Module, path: str | Path) -> Path:
    """Save a model from :func:`quantize_dynamic_int8` (or :func:`load_int8`) as one file.

    Format: a NeMo archive, exactly as ``model.save_to`` writes a ``.nemo`` (an
    uncompressed tar with ``model_config.yaml``, the tokenizer files and
    ``model_weights.ckpt``), except that ``model_weights.ckpt`` holds the *quantized*
    state dict: for each int8 Linear ``<layer>._packed_params._packed_params`` (the int8
    weight with its scale and zero point, and the float32 bias), ``<layer>.scale``,
    ``<layer>.zero_point`` and ``<layer>._packed_params.dtype``; every other tensor as in
    the float model. The config's ``int8_quantization`` entry (``{method: dynamic, dtype:
    qint8, modules: [torch.nn.Linear]}``) says how to rebuild the layers. No float copy of
    the quantized weights is kept, so the file is smaller than the float ``.nemo``.

    NeMo's plain ``restore_from`` cannot read it (the state dict does not fit a float
    model; loading fails on the unexpected ``_packed_params`` keys): use :func:`load_int8`.
    A name such as ``parakeet.int8.nemo`` says so. The file is written atomically.

    Args:
        model_int8: an int8 NeMo model.
        path: destination; parent folders are created.

    Returns:
        The path written (its size on disk: :func:`file_size`).

    Raises:
        ValueError: the model is not an int8 model from :func:`quantize_dynamic_int8`.
    """
    spec = getattr(model_int8, "cfg", None) is not None and model_int8.cfg.get(INT8_CONFIG_KEY)
    if not spec or not _dynamic_int8_linears(model_int8):
        raise ValueError(f"{type(model_int8).__name__} is not an int8 model from quantize_dynamic_int8 "
                         "(no dynamically quantized Linear layers or no int8_quantization config entry); "
                         "save a float model with save_nemo")
    return save_nemo(model_int8, path)


def load_int8(path: str | Path) -> nn.Module:
    """Load a model written by :func:`save_int8`.

    NeMo restores the archive as it restores a ``.nemo`` (the class named in the config,
    built from the config with the packed tokenizer), except that the freshly built model
    is quantized the same way before the int8 state dict is loaded into it (strictly:
    every tensor must fit).

    Args:
        path: a file from :func:`save_int8`.

    Returns:
        The int8 model, on CPU, in evaluation mode (a TDT model gets the CPU loss, as
        ``restore_nemo`` gives it).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a NeMo archive, or an archive of a float model.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no int8 model file at {path}")
    spec = _archive_config(path).get(INT8_CONFIG_KEY)
    if not spec:
        raise ValueError(f"{path} holds a float model (its config has no {INT8_CONFIG_KEY} entry); "
                         "restore it with restore_nemo, or quantize it with quantize_dynamic_int8")
    if dict(spec) != INT8_SPEC:
        raise ValueError(f"{path}: unsupported quantization {dict(spec)}; this module writes {INT8_SPEC}")
    from nemo.collections.asr.models import ASRModel

    model = ASRModel.restore_from(str(path), map_location="cpu", save_restore_connector=_int8_connector_class()())
    use_cpu_tdt_loss(model)
    return model.eval()


def _archive_config(path: Path) -> dict[str, Any]:
    """The ``model_config.yaml`` of a NeMo archive, read without unpacking the weights."""
    import yaml

    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if member.isfile() and Path(member.name).name == "model_config.yaml":
                    config = yaml.safe_load(archive.extractfile(member).read().decode("utf-8"))
                    return config if isinstance(config, dict) else {}
    except tarfile.ReadError as error:
        raise ValueError(f"{path} is not a NeMo archive (a tar file with model_config.yaml): {error}") from error
    raise ValueError(f"{path} is not a NeMo archive: it has no model_config.yaml")


@functools.cache
def _int8_connector_class() -> type:
    from nemo.core.connectors.save_restore_connector import SaveRestoreConnector

    class Int8RestoreConnector(SaveRestoreConnector):
        """NeMo's restore, with the model quantized before the int8 weights are loaded."""

        def load_instance_with_state_dict(self, instance, state_dict, strict):
            instance.eval()
            torch.ao.quantization.quantize_dynamic(instance, {nn.Linear}, dtype=torch.qint8, inplace=True)
            super().load_instance_with_state_dict(instance, state_dict, strict)

    return Int8RestoreConnector


def file_size(paths: str | Path | Sequence[str | Path] | Mapping[str, Any]) -> int:
    """Bytes on disk of files (a folder counts every file under it).

    Args:
        paths: a path, a list of paths, or a dict from :func:`export_onnx` (its ``files``).

    Returns:
        The total size in bytes.

    Raises:
        FileNotFoundError: a path that does not exist.
    """
    if isinstance(paths, Mapping):
        paths = paths["files"]
    if isinstance(paths, (str, Path)):
        paths = [paths]
    total = 0
    for path in map(Path, paths):
        if path.is_dir():
            total += sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
        elif path.is_file():
            total += path.stat().st_size
        else:
            raise FileNotFoundError(f"no file or folder at {path}")
    return total


# ---------------------------------------------------------------------------- ONNX export


def export_onnx(model: nn.Module, out_dir: str | Path, name: str = "model", opset: int | None = None
                ) -> dict[str, Any]:
    """Export a float NeMo ASR model to ONNX with NeMo's exporter.

    Graphs (NeMo's layout), all taking log-mel features ``audio_signal`` (B, n_mels, T)
    and ``length`` (B,), not audio: the preprocessor is not exported.

    - Transducers (TDT, RNN-T, and hybrids decoding with their transducer):
      ``encoder-<name>.onnx`` (features -> ``outputs`` (B, D, T'), ``encoded_lengths``) and
      ``decoder_joint-<name>.onnx`` (one step of prediction network and joint: encoder
      frames, previous tokens and LSTM states -> joint logits, not log-softmaxed, and new
      states; for TDT the duration logits follow the token logits).
    - CTC (and hybrids after ``model.change_decoding_strategy(decoder_type="ctc")``):
      ``<name>.onnx`` (features -> ``logprobs`` (B, T', V + 1); no lengths output).

    NeMo's exporter changes the module it exports (evaluation mode, gradients off, export
    flags on the joint and prediction network), so a copy is exported (on CPU) and the
    model passed in is left as it was; the copy needs as much memory again. Graphs over 2 GB get their
    weights in extra files beside them, which are counted too. The files are written in a
    staging folder inside ``out_dir`` and then moved in, so files of an earlier export are
    replaced only when the new export succeeded.

    Args:
        model: a float NeMo ASR model (quantized models cannot be exported: see Raises).
        out_dir: destination folder (created).
        name: base name of the files.
        opset: ONNX opset (NeMo's default, 17, when None).

    Returns:
        ``head`` (``"tdt"``, ``"rnnt"`` or ``"ctc"``: what the graphs decode with),
        ``parts`` (``{"encoder": path, "decoder_joint": path}`` or ``{"model": path}``),
        ``files`` (every file written, sorted) and ``bytes`` (their total size on disk).

    Raises:
        TypeError: an int8 model (PyTorch's ONNX exporter cannot trace dynamically
            quantized Linear layers; export the float model and quantize the ONNX graphs
            with ``onnxruntime.quantization.quantize_dynamic`` instead), or not a NeMo ASR
            model.
    """
    head = _head(model)
    if _dynamic_int8_linears(model):
        raise TypeError("cannot export an int8 model to ONNX: PyTorch's ONNX exporter cannot trace dynamically "
                        "quantized Linear layers; export the float model (and quantize the ONNX graphs with "
                        "onnxruntime.quantization.quantize_dynamic if int8 ONNX is wanted)")
    out_dir = Path(out_dir).expanduser().resolve()
    staging = out_dir / f".{name}.{os.getpid()}.export"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        exported = _copy_model(model).cpu().eval()
        kwargs = {} if opset is None else {"onnx_opset_version": int(opset)}
        exported.export(str(staging / f"{name}.onnx"), **kwargs)
        del exported
        files = []
        for item in sorted(staging.rglob("*")):
            if item.is_file():
                target = out_dir / item.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(item, target)
                files.append(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    parts = _onnx_parts(out_dir, name, head)
    return {"head": head, "parts": parts, "files": files, "bytes": file_size(files)}


def _head(model: nn.Module) -> str:
    """What the model decodes with: ``"tdt"``, ``"rnnt"`` or ``"ctc"`` (a hybrid: its ``cur_decoder``).

    A joint with extra outputs is taken as TDT (the durations; multi-blank RNN-T, which
    also has extra outputs, is not a Parakeet head)."""
    if not (hasattr(model, "preprocessor") and hasattr(model, "encoder") and hasattr(model, "decoder")):
        raise TypeError(f"{type(model).__name__} is not a NeMo ASR model (preprocessor, encoder and decoder)")
    if hasattr(model, "joint") and getattr(model, "cur_decoder", "rnnt") != "ctc":
        return "tdt" if getattr(model.joint, "num_extra_outputs", 0) > 0 else "rnnt"
    return "ctc"


def _onnx_parts(onnx_dir: str | Path, name: str, head: str) -> dict[str, Path]:
    onnx_dir = Path(onnx_dir)
    if head == "ctc":
        parts = {"model": onnx_dir / f"{name}.onnx"}
    else:
        parts = {"encoder": onnx_dir / f"encoder-{name}.onnx", "decoder_joint": onnx_dir / f"decoder_joint-{name}.onnx"}
    missing = [str(path) for path in parts.values() if not path.is_file()]
    if missing:
        found = sorted(path.name for path in onnx_dir.glob("*.onnx")) if onnx_dir.is_dir() else []
        raise FileNotFoundError(f"a {head} model needs {', '.join(p.name for p in parts.values())} in {onnx_dir}; "
                                f"missing {', '.join(missing)} (ONNX files there: {found or 'none'}); "
                                f"export the model with export_onnx(model, {str(onnx_dir)!r}, name={name!r})")
    return parts


# ---------------------------------------------------------------------------- ONNX Runtime


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError("running ONNX graphs needs the onnxruntime package (pip install onnxruntime)") from error
    return onnxruntime


def _session(path: Path, threads: int) -> Any:
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
            self.encoder = _session(encoder, threads)
            self.decoder_joint = _session(decoder_joint, threads)
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
        self.encoder = _session(encoder, threads)
        self.decoder_joint = _session(decoder_joint, threads)
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
        encoded, encoded_lengths = self.encoder.run(None, _feed(self.encoder, inputs))
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


def _transducer_greedy(model: nn.Module, head: str, parts: Mapping[str, Path], threads: int) -> Any:
    """Greedy decoding of the exported transducer graphs: called with a feature batch and
    its lengths, gives token ids per utterance."""
    if head == "tdt":
        from omegaconf import OmegaConf

        max_symbols = OmegaConf.select(model.cfg, "decoding.greedy.max_symbols", default=None)
        return _OrtGreedyTDT(parts["encoder"], parts["decoder_joint"], model.decoder.blank_idx,
                             _tdt_durations(model), max_symbols, threads)
    greedy = _rnnt_greedy(model, parts, threads)
    return lambda features, lengths: [hyp.y_sequence.tolist() for hyp in greedy(features, lengths)]


def _ctc_parts(model: nn.Module) -> tuple[nn.Module, Any]:
    """The CTC head and its decoding (a hybrid's auxiliary ones, else the model's own)."""
    if hasattr(model, "ctc_decoder"):
        return model.ctc_decoder, model.ctc_decoding
    return model.decoder, model.decoding


def _require_cpu(model: nn.Module, what: str) -> None:
    devices = {parameter.device.type for parameter in model.parameters()}
    if devices - {"cpu"}:
        raise ValueError(f"{what} runs the model's PyTorch parts on CPU, beside ONNX Runtime's CPU provider; "
                         f"the model is on {sorted(devices)}: pass model.cpu()")


@contextmanager
def _inference(model: nn.Module) -> Iterator[None]:
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


def _signal_batch(signal: Any, lengths: Any = None) -> tuple[Tensor, Tensor]:
    """(B, N) float32 samples and (B,) lengths from one clip, a list of clips or a padded batch."""
    if isinstance(signal, (list, tuple)):
        clips = [torch.as_tensor(np.asarray(clip), dtype=torch.float32).reshape(-1) for clip in signal]
        if not clips or any(len(clip) == 0 for clip in clips):
            raise ValueError("signal: no clips, or an empty clip")
        batch = torch.zeros(len(clips), max(len(clip) for clip in clips))
        for row, clip in enumerate(clips):
            batch[row, : len(clip)] = clip
        return batch, torch.tensor([len(clip) for clip in clips])
    batch = torch.as_tensor(np.asarray(signal), dtype=torch.float32)
    if batch.ndim == 1:
        batch = batch[None]
    if batch.ndim != 2 or batch.shape[1] == 0:
        raise ValueError(f"signal must be samples (N,), a padded batch (B, N) or a list of clips; "
                         f"got shape {tuple(batch.shape)}")
    if lengths is None:
        return batch, torch.full((batch.shape[0],), batch.shape[1])
    lengths = torch.as_tensor(np.asarray(lengths), dtype=torch.long).reshape(-1)
    if len(lengths) != batch.shape[0] or int(lengths.min()) <= 0 or int(lengths.max()) > batch.shape[1]:
        raise ValueError(f"lengths {lengths.tolist()} do not fit a batch of shape {tuple(batch.shape)}")
    return batch, lengths


def _max_abs_diff(ours: Tensor, theirs: Tensor, lengths: Tensor, time_dim: int) -> float:
    """Largest |difference| over the valid frames of each utterance (padding excluded)."""
    worst = 0.0
    for row, length in enumerate(lengths.tolist()):
        a = ours[row].narrow(time_dim - 1, 0, length)
        b = theirs[row].narrow(time_dim - 1, 0, length)
        worst = max(worst, float((a - b).abs().max()))
    return worst


def _texts(hypotheses: Any) -> list[str]:
    if isinstance(hypotheses, tuple):  # older NeMo: (best, all)
        hypotheses = hypotheses[0]
    return [" ".join(str(getattr(hyp, "text", hyp)).split()) for hyp in hypotheses]


def _ids_to_text(decoding: Any, ids: Any) -> str:
    return " ".join(decoding.decode_ids_to_str([int(i) for i in ids]).split())


def check_onnx(model: nn.Module, onnx_dir: str | Path, signal: Any, lengths: Any = None, *, name: str = "model",
               threads: int = 1) -> dict[str, Any]:
    """Run the graphs from :func:`export_onnx` in ONNX Runtime and compare them with PyTorch.

    The model's preprocessor (PyTorch) turns ``signal`` into log-mel features; both the
    PyTorch modules and the ONNX graphs get those same features, and their outputs are
    compared over each utterance's valid frames (padding excluded):

    - ``max_abs_diff``: the encoder output (transducers) or the CTC log-probabilities
      (CTC: the graph is encoder + head), largest absolute difference; ``reference_scale``
      is the largest absolute PyTorch value, for scale; ``lengths_equal``: the encoder
      frame counts agree (transducers; a CTC graph has no lengths output).
    - ``decoder_joint_max_abs_diff`` (transducers): one decoding step (blank as previous
      token, zero LSTM state) on the PyTorch encoder output at every frame, compared
      after log-softmax (PyTorch's joint applies it on CPU, the exported one does not).
    - Greedy transcripts: ``transcripts_torch`` (the model's own decoding of the PyTorch
      outputs), ``transcripts_onnx`` (decoded from the ONNX graphs alone: encoder graph,
      then decoder-joint graph) and ``transcripts_match``. CTC: NeMo's CTC decoding of the
      ONNX log-probabilities. RNN-T: NeMo's greedy decoding of exported graphs
      (``ONNXGreedyBatchedRNNTInfer``'s loop). TDT: :func:`greedy_tdt` on the
      decoder-joint graph, one utterance at a time (NeMo's exported-graph decoder takes
      the last joint output as the blank and ignores durations, so it cannot decode TDT).
      A float32 difference between the graphs and PyTorch can flip a near-tie between two
      tokens or durations, so a trained model may now and then differ in a word.

    Args:
        model: the float model the graphs were exported from, on CPU.
        onnx_dir: the folder given to :func:`export_onnx`.
        signal: audio at the model's sample rate: samples (N,), a padded batch (B, N), or
            a list of clips of any lengths.
        lengths: samples per row of a padded batch (default: all of N).
        name: the ``name`` given to :func:`export_onnx`.
        threads: ONNX Runtime threads.

    Returns:
        ``head`` and the comparisons above.

    Raises:
        FileNotFoundError: graphs missing for the model's head.
        TypeError: an int8 model (its numbers differ from the float graphs by design).
        ValueError: a model not on CPU, a signal of the wrong shape, or a TDT model whose
            durations are missing or do not fit its joint's outputs.
        ImportError: onnxruntime is not installed.
    """
    head = _head(model)
    if _dynamic_int8_linears(model):
        raise TypeError("check_onnx compares float graphs with the float model they were exported from; "
                        "got an int8 model")
    _require_cpu(model, "check_onnx")
    parts = _onnx_parts(onnx_dir, name, head)
    samples, sample_lengths = _signal_batch(signal, lengths)
    result: dict[str, Any] = {"head": head}
    with _inference(model):
        features, feature_lengths = model.preprocessor(input_signal=samples, length=sample_lengths)
        encoded, encoded_lengths = model.encoder(audio_signal=features, length=feature_lengths)
        inputs = {"audio_signal": features.numpy(), "length": feature_lengths.numpy()}
        if head == "ctc":
            ctc_head, decoding = _ctc_parts(model)
            log_probs = ctc_head(encoder_output=encoded)
            session = _session(parts["model"], threads)
            onnx_log_probs = torch.from_numpy(session.run(None, _feed(session, inputs))[0])
            result["output"] = "logprobs"
            result["max_abs_diff"] = _max_abs_diff(onnx_log_probs, log_probs, encoded_lengths, time_dim=1)
            result["reference_scale"] = float(log_probs.abs().max())
            result["lengths_equal"] = None
            result["decoder_joint_max_abs_diff"] = None
            torch_texts = _texts(decoding.ctc_decoder_predictions_tensor(log_probs, decoder_lengths=encoded_lengths))
            onnx_texts = _texts(decoding.ctc_decoder_predictions_tensor(onnx_log_probs,
                                                                        decoder_lengths=encoded_lengths))
        else:
            session = _session(parts["encoder"], threads)
            onnx_encoded, onnx_lengths = session.run(None, _feed(session, inputs))
            result["output"] = "encoder"
            result["max_abs_diff"] = _max_abs_diff(torch.from_numpy(onnx_encoded), encoded, encoded_lengths,
                                                   time_dim=2)
            result["reference_scale"] = float(encoded.abs().max())
            result["lengths_equal"] = bool(np.array_equal(onnx_lengths, encoded_lengths.numpy()))
            result["decoder_joint_max_abs_diff"] = _decoder_joint_diff(model, parts["decoder_joint"], encoded,
                                                                       encoded_lengths, threads)
            torch_texts = _texts(model.decoding.rnnt_decoder_predictions_tensor(
                encoder_output=encoded, encoded_lengths=encoded_lengths))
            onnx_texts = [_ids_to_text(model.decoding, ids)
                          for ids in _transducer_greedy(model, head, parts, threads)(features, feature_lengths)]
    result["transcripts_torch"] = torch_texts
    result["transcripts_onnx"] = onnx_texts
    result["transcripts_match"] = onnx_texts == torch_texts
    return result


def _feed(session: Any, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Inputs by position (NeMo names them after the module's input types)."""
    return {node.name: value for node, value in zip(session.get_inputs(), values.values())}


def _decoder_joint_diff(model: nn.Module, path: Path, encoded: Tensor, encoded_lengths: Tensor, threads: int
                        ) -> float:
    """Largest |difference| of one prediction + joint step, ONNX vs PyTorch (log-softmaxed)."""
    batch = encoded.shape[0]
    blank = model.decoder.blank_idx
    targets = torch.full((batch, 1), blank, dtype=torch.long)
    prediction, _ = model.decoder.predict(targets, state=None, add_sos=False, batch_size=batch)
    reference = model.joint.joint(encoded.transpose(1, 2), prediction).log_softmax(dim=-1)  # (B, T, 1, V)
    session = _session(path, threads)
    states = [np.zeros([dim if isinstance(dim, int) else batch for dim in node.shape], dtype=np.float32)
              for node in session.get_inputs()[3:]]
    values = [encoded.numpy(), targets.int().numpy(), np.ones(batch, dtype=np.int32), *states]
    outputs = session.run(None, {node.name: value for node, value in zip(session.get_inputs(), values)})
    ours = torch.from_numpy(outputs[0]).log_softmax(dim=-1)
    return _max_abs_diff(ours, reference, encoded_lengths, time_dim=1)


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
    return _OnnxTranscriber(model, onnx_dir, name, threads)(paths)


class _OnnxTranscriber:
    """Sessions made once; called with audio paths, returns transcripts."""

    def __init__(self, model: nn.Module, onnx_dir: str | Path, name: str, threads: int | None):
        self.model = model
        self.head = _head(model)
        _require_cpu(model, "ONNX transcription")
        parts = _onnx_parts(onnx_dir, name, self.head)
        threads = torch.get_num_threads() if threads is None else int(threads)
        self.sample_rate = int(model.cfg.get("sample_rate", 16_000))
        if self.head == "ctc":
            self.session = _session(parts["model"], threads)
            self.decoding = _ctc_parts(model)[1]
        else:
            self.greedy = _transducer_greedy(model, self.head, parts, threads)

    def __call__(self, paths: Sequence[str | Path]) -> list[str]:
        texts = []
        with _inference(self.model):
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
                    log_probs = torch.from_numpy(self.session.run(None, _feed(self.session, inputs))[0])
                    frames = torch.tensor([log_probs.shape[1]])
                    texts += _texts(self.decoding.ctc_decoder_predictions_tensor(log_probs, decoder_lengths=frames))
                else:
                    texts.append(_ids_to_text(self.model.decoding, self.greedy(features, lengths)[0]))
        return texts


def onnx_measure(model: nn.Module, onnx_dir: str | Path, rows: Sequence[Mapping[str, Any]] | str | Path, *,
                 name: str = "model", threads: int | None = None) -> dict[str, Any]:
    """Word and character error rates and speed of ONNX Runtime transcription, as ``measure`` reports them.

    Transcribes with :func:`onnx_transcribe` (one utterance at a time, so ``rtfx`` is
    single-stream speed; compare with ``measure(model, rows, batch_size=1)``). Session
    creation is not timed; audio decoding and features are, as in ``measure``.

    Args:
        model: the model the graphs were exported from.
        onnx_dir: the folder given to :func:`export_onnx`.
        rows: manifest rows (``audio_filepath``, ``text``, optionally ``duration``) or a
            manifest path.
        name: the ``name`` given to :func:`export_onnx`.
        threads: ONNX Runtime threads (default: ``torch.get_num_threads()``).

    Returns:
        ``wer``, ``cer``, ``rtfx``, ``audio_seconds``, ``inference_seconds``,
        ``utterances``, ``words``, ``hypotheses`` (as ``measure``) and ``threads``.

    Raises:
        ValueError: no rows, or unreadable manifest lines (and what :func:`onnx_transcribe`
            raises).
    """
    import jiwer
    import soundfile as sf

    if isinstance(rows, (str, Path)):
        rows = read_complete_manifest(rows)
    if not rows:
        raise ValueError("onnx_measure: no rows to score")
    threads = torch.get_num_threads() if threads is None else int(threads)
    transcriber = _OnnxTranscriber(model, onnx_dir, name, threads)
    references = [" ".join(str(row["text"]).split()) for row in rows]
    paths = [str(row["audio_filepath"]) for row in rows]
    audio_seconds = sum(float(row["duration"]) if row.get("duration") else sf.info(path).duration
                        for row, path in zip(rows, paths))
    started = time.perf_counter()
    hypotheses = transcriber(paths)
    seconds = time.perf_counter() - started
    return {
        "wer": float(jiwer.process_words(references, hypotheses).wer),
        "cer": float(jiwer.process_characters(references, hypotheses).cer),
        "rtfx": audio_seconds / seconds if seconds > 0 else float("inf"),
        "audio_seconds": audio_seconds,
        "inference_seconds": seconds,
        "utterances": len(rows),
        "words": sum(len(reference.split()) for reference in references),
        "hypotheses": hypotheses,
        "threads": threads,
    }
