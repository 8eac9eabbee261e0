"""A Kedro dataset for NeMo models as ``.nemo`` files (config, weights and tokenizer in one
archive), the format NeMo's own scripts, ``ASRModel.restore_from`` and NVIDIA's tools read.

Saving writes the archive under a temporary name and renames it (``asr.model_io.save_nemo``),
so an interrupted save never replaces a good model; ``versioned: true`` keeps every run's.
NeMo is imported only when a model is loaded or saved.
"""

from __future__ import annotations

from kedro.io.core import DatasetError
from torch import nn

from dl_roadmap.datasets.local_file import LocalFileDataset


class NemoModelDataset(LocalFileDataset[nn.Module, nn.Module]):
    """A local ``.nemo`` file <-> a NeMo ASR model (on CPU, in evaluation mode).

    Example catalog entry::

        parakeet_finetuned_model:
          type: dl_roadmap.datasets.nemo_model.NemoModelDataset
          filepath: data/06_models/parakeet_finetune/finetuned.nemo
          versioned: true
    """

    def load(self) -> nn.Module:
        from dl_roadmap.asr.model_io import restore_nemo

        path = self._load_path()
        try:
            return restore_nemo(path)
        except Exception as error:  # corrupt archive, foreign file: say which one
            raise DatasetError(f"could not restore a NeMo model from {path}: {error}") from error

    def save(self, data: nn.Module) -> None:
        from dl_roadmap.asr.model_io import save_nemo

        if not hasattr(data, "save_to"):
            raise DatasetError(f"NemoModelDataset saves NeMo models (with save_to), got {type(data).__name__}")
        save_nemo(data, self._save_path())
