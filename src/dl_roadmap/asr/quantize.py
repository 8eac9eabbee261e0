"""int8 Parakeet models for CPU inference: a dynamically quantized copy, and its file.

:func:`quantize_dynamic_int8` gives a copy whose ``nn.Linear`` layers hold int8
weights (PyTorch dynamic quantization: activations are quantized on the fly, per
batch). The copy is an ordinary NeMo model, so NeMo's ``transcribe`` (and this
project's ``transcribe`` and ``measure``) run on it. :func:`save_int8` and
:func:`load_int8` write and read it as one file.

Typical use::

    small = quantize_dynamic_int8(model)
    save_int8(small, "data/06_models/parakeet.int8.nemo")
    file_size("data/06_models/parakeet.int8.nemo")        # bytes on disk (asr.model_io)

NeMo is imported inside the functions, so importing this module is cheap."""

from __future__ import annotations

import copy
import functools
import tarfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dl_roadmap.asr.model_io import save_nemo
from dl_roadmap.asr.tdt_nemo import use_cpu_tdt_loss


# The config entry that marks an int8 model (written by quantize_dynamic_int8, travels in
# the saved file's model_config.yaml and tells load_int8 how to rebuild the layers).
INT8_CONFIG_KEY = "int8_quantization"
INT8_SPEC = {"method": "dynamic", "dtype": "qint8", "modules": ["torch.nn.Linear"]}


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
    clone = copy_model(model).cpu().eval()
    torch.ao.quantization.quantize_dynamic(clone, {nn.Linear}, dtype=torch.qint8, inplace=True)
    if getattr(clone, "cfg", None) is not None:
        with open_dict(clone.cfg):
            clone.cfg[INT8_CONFIG_KEY] = dict(INT8_SPEC)
    return clone


def copy_model(model: nn.Module) -> nn.Module:
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


def dynamic_int8_linears(model: nn.Module) -> list[str]:
    """Names of the model's dynamically quantized (int8) Linear layers."""
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
        The path written (its size on disk: ``model_io.file_size``).

    Raises:
        ValueError: the model is not an int8 model from :func:`quantize_dynamic_int8`.
    """
    spec = getattr(model_int8, "cfg", None) is not None and model_int8.cfg.get(INT8_CONFIG_KEY)
    if not spec or not dynamic_int8_linears(model_int8):
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
