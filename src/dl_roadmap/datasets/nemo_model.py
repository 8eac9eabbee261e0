"""A Kedro dataset for NeMo models as ``.nemo`` files (config, weights and tokenizer in one
archive), the format NeMo's own scripts, ``ASRModel.restore_from`` and NVIDIA's tools read.

Saving writes the archive under a temporary name and renames it (``asr.model.save_nemo``),
so an interrupted save never replaces a good model; ``versioned: true`` keeps every run's.
NeMo is imported only when a model is loaded or saved.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import fsspec
from kedro.io.core import AbstractVersionedDataset, DatasetError, Version, get_filepath_str, get_protocol_and_path
from torch import nn


class NemoModelDataset(AbstractVersionedDataset[nn.Module, nn.Module]):
    """A local ``.nemo`` file <-> a NeMo ASR model (on CPU, in evaluation mode).

    Example catalog entry::

        parakeet_finetuned_model:
          type: dl_roadmap.datasets.nemo_model.NemoModelDataset
          filepath: data/06_models/parakeet_finetune/finetuned.nemo
          versioned: true
    """

    def __init__(self, filepath: str, version: Version | None = None, metadata: dict[str, Any] | None = None):
        protocol, path = get_protocol_and_path(filepath, version)
        if protocol != "file":
            raise DatasetError(f"NemoModelDataset reads and writes local files only, got {filepath}")
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol)
        self.metadata = metadata
        super().__init__(filepath=PurePosixPath(path), version=version, exists_function=self._fs.exists,
                         glob_function=self._fs.glob)

    def load(self) -> nn.Module:
        from dl_roadmap.asr.model import restore_nemo

        path = get_filepath_str(self._get_load_path(), self._protocol)
        try:
            return restore_nemo(path)
        except Exception as error:  # corrupt archive, foreign file: say which one
            raise DatasetError(f"could not restore a NeMo model from {path}: {error}") from error

    def save(self, data: nn.Module) -> None:
        from dl_roadmap.asr.model import save_nemo

        if not hasattr(data, "save_to"):
            raise DatasetError(f"NemoModelDataset saves NeMo models (with save_to), got {type(data).__name__}")
        save_nemo(data, get_filepath_str(self._get_save_path(), self._protocol))

    def _exists(self) -> bool:
        try:
            path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(path)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version}
