"""Parakeet models on disk: a base to start from (a ``.nemo`` file or a pretrained name),
.nemo files saved atomically and restored, and the size of model files.

Typical use::

    model = load_base("nvidia/parakeet-tdt-0.6b-v2")     # or a path to a .nemo file
    save_nemo(model, "data/06_models/parakeet.nemo")
    file_size("data/06_models/parakeet.nemo")            # bytes on disk

NeMo is imported inside the functions, so importing this module is cheap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from dl_roadmap.asr.tdt_nemo import use_cpu_tdt_loss
from dl_roadmap.core.files import atomic_write


class BaseModelUnavailableError(RuntimeError):
    """A pretrained model could not be fetched; the message says how to use a local file."""


def load_base(source: str | Path, cpu_tdt_loss: bool = True) -> nn.Module:
    """A base model to fine-tune or evaluate: a local ``.nemo`` file or a pretrained name.

    Pretrained names (``nvidia/parakeet-tdt-0.6b-v2`` on Hugging Face, or an NGC name)
    go through NeMo's ``ASRModel.from_pretrained``, which downloads (or reuses NeMo's and
    Hugging Face's caches).

    Args:
        source: a path ending in ``.nemo`` (or any existing file), else a pretrained name.
        cpu_tdt_loss: give a TDT model the CPU loss (harmless on GPU: CUDA tensors still
            go to NeMo's kernel).

    Returns:
        The model on CPU, in evaluation mode.

    Raises:
        FileNotFoundError: a ``.nemo`` path that does not exist.
        BaseModelUnavailableError: the pretrained model could not be downloaded (offline,
            unknown name); the message says to download the ``.nemo`` and pass its path.
    """
    text = str(source)
    path = Path(text).expanduser()
    if text.endswith(".nemo") or path.is_file():
        return restore_nemo(path, cpu_tdt_loss=cpu_tdt_loss)
    from nemo.collections.asr.models import ASRModel

    try:
        model = ASRModel.from_pretrained(text, map_location="cpu")
    except Exception as error:  # NeMo and huggingface_hub raise many kinds; all mean "not available"
        raise BaseModelUnavailableError(_unavailable_message(text, error)) from error
    if cpu_tdt_loss:
        use_cpu_tdt_loss(model)
    return model.eval()


def _unavailable_message(name: str, error: BaseException) -> str:
    offline = _is_network_error(error)
    reason = "no network connection (or HF_HUB_OFFLINE is set)" if offline else "it could not be loaded"
    file_name = name.rsplit("/", 1)[-1] + ".nemo"
    return (
        f"pretrained model {name!r} is not available: {reason} ({type(error).__name__}: {error}). "
        f"Download the checkpoint on a machine with network access, e.g. "
        f"`hf download {name} {file_name} --local-dir data/06_models` for a Hugging Face name "
        f"(NGC models: the .nemo file from catalog.ngc.nvidia.com), and pass the path of the "
        f".nemo file instead of the name."
    )


def _is_network_error(error: BaseException | None) -> bool:
    """Whether an exception (or one it was raised from) means the network was unreachable."""
    network_names = {"OfflineModeIsEnabled", "LocalEntryNotFoundError", "ConnectError", "ConnectTimeout",
                     "ReadTimeout", "URLError", "MaxRetryError", "NameResolutionError", "ConnectionError"}
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (ConnectionError, TimeoutError)) or type(error).__name__ in network_names:
            return True
        error = error.__cause__ or error.__context__
    return False


def restore_nemo(path: str | Path, cpu_tdt_loss: bool = True) -> nn.Module:
    """Restore a ``.nemo`` file (any ASR model class; the file names its class).

    Args:
        path: the ``.nemo`` file.
        cpu_tdt_loss: give a TDT model the CPU loss (see :func:`load_base`).

    Returns:
        The model on CPU, in evaluation mode, with no data loaders set up.

    Raises:
        FileNotFoundError: the file does not exist.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no .nemo file at {path}")
    from nemo.collections.asr.models import ASRModel

    model = ASRModel.restore_from(str(path), map_location="cpu")
    if cpu_tdt_loss:
        use_cpu_tdt_loss(model)
    return model.eval()


def save_nemo(model: nn.Module, path: str | Path) -> Path:
    """Save a NeMo model as a ``.nemo`` file, atomically.

    The archive is written next to ``path`` under a temporary name and renamed over it,
    so a reader never sees a half-written file and an interrupted save leaves the old one.

    Args:
        model: a NeMo ``ModelPT``.
        path: destination (``.nemo``); parent folders are created.

    Returns:
        The path written.
    """
    path = Path(path).expanduser().resolve()
    with atomic_write(path) as partial:  # keeps the .nemo suffix NeMo packs by
        model.save_to(str(partial))
    return path


def file_size(paths: str | Path | Sequence[str | Path] | Mapping[str, Any]) -> int:
    """Bytes on disk of files (a folder counts every file under it).

    Args:
        paths: a path, a list of paths, or a dict from ``onnx_export.export_onnx`` (its ``files``).

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
