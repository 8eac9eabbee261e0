"""int8 quantization for x86 CPUs: dynamic, static (calibrated) and quantization-aware.

Static and QAT use FX graph mode (``torch.ao.quantization.quantize_fx``), so the model
needs no QuantStub edits but must be traceable by ``torch.fx``. Quantized models run on
CPU only.

Saving: ``torch.save`` of a statically quantized module writes a file that ``torch.load``
cannot rebuild (quantized convolutions pickle their weights but not their nn.Module
internals), and a QAT-prepared GraphModule does not pickle at all. The static and QAT
results are therefore TorchScript programs inside ``ScriptedModel``, an nn.Module that
pickles as the ``torch.jit.save`` bytes, so the catalog's ``torch.save``/``torch.load``
round trip works for every variant. Dynamic int8 pickles as it is.
"""

from __future__ import annotations

import copy
import io
import warnings
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

import torch
from torch import nn
from torch.ao.quantization import (
    QConfig,
    QConfigMapping,
    get_default_qat_qconfig_mapping,
    get_default_qconfig_mapping,
    quantize_dynamic,
)
from torch.ao.quantization.observer import HistogramObserver, MinMaxObserver
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx, prepare_qat_fx

ENGINE = "x86"  # fbgemm kernels with x86 heuristics; the default on x86 CPUs

# Weight granularity of static int8: x86's default observes weights per output channel
# (one scale s_c = max|W_c| / 127 per channel); per tensor, one scale serves every channel,
# which hurts layers whose channels differ in range (depthwise convolutions after BN folding).
WEIGHT_GRANULARITIES = ("per_channel", "per_tensor")


def static_qconfig_mapping(weights: str = "per_channel") -> QConfigMapping:
    """x86's default static mapping, with weights observed ``per_channel`` (the default) or
    ``per_tensor`` (symmetric int8, activations unchanged: histogram-calibrated per tensor)."""
    if weights not in WEIGHT_GRANULARITIES:
        raise ValueError(f"weight granularity: one of {list(WEIGHT_GRANULARITIES)}, got {weights!r}")
    mapping = get_default_qconfig_mapping(ENGINE)
    if weights == "per_tensor":
        per_tensor = MinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)
        mapping.set_global(QConfig(activation=HistogramObserver.with_args(reduce_range=True), weight=per_tensor))
    return mapping


@contextmanager
def quantized_engine(engine: str = ENGINE) -> Iterator[None]:
    """Select the quantized kernel backend, then restore the previous one."""
    if engine not in torch.backends.quantized.supported_engines:
        available = torch.backends.quantized.supported_engines
        raise RuntimeError(f"quantized engine {engine!r} is not available here: {available}")
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = engine
    try:
        with warnings.catch_warnings():
            # torch.ao.quantization announces its move to torchao on every call.
            warnings.filterwarnings("ignore", message="torch.ao.quantization is deprecated")
            yield
    finally:
        torch.backends.quantized.engine = previous


class ScriptedModel(nn.Module):
    """A TorchScript module that ``torch.save``/``torch.load`` handle like any module:
    it pickles as its ``torch.jit.save`` bytes."""

    def __init__(self, scripted: torch.jit.ScriptModule):
        super().__init__()
        self.scripted = scripted

    def forward(self, *inputs: Any) -> Any:
        return self.scripted(*inputs)

    def __getstate__(self) -> dict[str, Any]:
        buffer = io.BytesIO()
        torch.jit.save(self.scripted, buffer)
        # A uint8 tensor is written as raw bytes; a bytes object would be pickled as a
        # latin-1 string and grow by about half.
        archive = torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8)
        return {"torchscript": archive, "training": self.training}

    def __setstate__(self, state: dict[str, Any]) -> None:
        nn.Module.__init__(self)
        archive = io.BytesIO(state["torchscript"].numpy().tobytes())
        self.scripted = torch.jit.load(archive, map_location="cpu")
        self.train(state["training"])


def _args(example: torch.Tensor | tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """The positional arguments of one model call (a lone tensor is one argument)."""
    return tuple(example) if isinstance(example, (tuple, list)) else (example,)


def to_torchscript(model: nn.Module, example: torch.Tensor | tuple[torch.Tensor, ...]) -> ScriptedModel:
    """Script the model (FX output scripts), or trace it if scripting fails, then freeze it:
    submodules inlined into one graph, which drops most of the archive's code and runs faster."""
    model = model.eval()
    try:
        scripted = torch.jit.script(model)
    except Exception:  # e.g. a custom leaf module TorchScript cannot compile
        scripted = torch.jit.trace(model, _args(example))
    return ScriptedModel(torch.jit.freeze(scripted.eval()))


def dynamic_int8(model: nn.Module) -> nn.Module:
    """Linear (and LSTM/GRU) weights stored as int8; activations quantized on the fly per batch.
    Convolutions stay float: dynamic quantization has no kernels for them.

    Raises:
        ValueError: the model has none of those layers (the variant would be fp32 again).
    """
    if not any(isinstance(m, (nn.Linear, nn.LSTM, nn.GRU)) for m in model.modules()):
        raise ValueError(f"dynamic int8: {type(model).__name__} has no Linear, LSTM or GRU layer to quantize; "
                         "leave the variant out (compress_pipeline(variants=...))")
    with quantized_engine():
        return quantize_dynamic(copy.deepcopy(model).cpu().eval(), {nn.Linear, nn.LSTM, nn.GRU}, dtype=torch.qint8)


def static_int8(model: nn.Module, calibration: Iterable[torch.Tensor | tuple[torch.Tensor, ...]],
                weights: str = "per_channel") -> ScriptedModel:
    """Weights and activations in int8, activation ranges observed on ``calibration`` batches
    (each a tensor, or a tuple of a model call's inputs); weight scales ``per_channel`` or
    ``per_tensor`` (see ``static_qconfig_mapping``)."""
    mapping = static_qconfig_mapping(weights)
    batches = [_args(batch) for batch in calibration]
    if not batches:
        raise ValueError("static int8 quantization needs at least one calibration batch")
    with quantized_engine():
        float_model = copy.deepcopy(model).cpu().eval()
        prepared = _traced(prepare_fx, float_model, mapping, batches[0])
        with torch.inference_mode():
            for batch in batches:
                prepared(*batch)
        return to_torchscript(convert_fx(prepared), batches[0])


def prepare_qat(model: nn.Module, example: torch.Tensor | tuple[torch.Tensor, ...]) -> nn.Module:
    """A copy of ``model`` with fake-quantization (conv+BN folded), to be trained."""
    with quantized_engine():
        float_model = copy.deepcopy(model).cpu().train()
        return _traced(prepare_qat_fx, float_model, get_default_qat_qconfig_mapping(ENGINE), example)


def convert_qat(prepared: nn.Module, example: torch.Tensor | tuple[torch.Tensor, ...]) -> ScriptedModel:
    """The trained QAT model as a real int8 model."""
    with quantized_engine():
        return to_torchscript(convert_fx(copy.deepcopy(prepared).cpu().eval()), example)


def _traced(prepare: Any, model: nn.Module, qconfig: Any, example: torch.Tensor | tuple[torch.Tensor, ...]) -> nn.Module:
    try:
        return prepare(model, qconfig, _args(example))
    except Exception as error:  # torch.fx cannot trace data-dependent control flow
        raise RuntimeError(
            f"FX graph mode quantization could not trace {type(model).__name__}: {error}. "
            "Leave the static/QAT int8 variants out for this model (compress_pipeline(variants=...))."
        ) from error
