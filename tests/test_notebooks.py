"""Notebooks are executed against a finished test run so they cannot rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import PROJECT_ROOT


def execute(notebook: str, project: Path, monkeypatch: pytest.MonkeyPatch) -> list:
    """Run ``notebook`` from the project copy's notebooks/ folder (the kernel must find the
    project by itself, and reads the test environment's outputs: KEDRO_ENV=test); every code
    cell's outputs, after checking none is an error."""
    monkeypatch.setenv("KEDRO_ENV", "test")
    nb = nbformat.read(PROJECT_ROOT / "notebooks" / notebook, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(project / "notebooks")}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    assert not errors, errors
    return outputs


def images(outputs: list) -> int:
    return sum("image/png" in o.get("data", {}) for o in outputs)


def test_mnist_notebook_runs_on_pipeline_outputs(mnist_autoencoder_run, monkeypatch):
    project, _ = mnist_autoencoder_run
    assert images(execute("mnist_autoencoder.ipynb", project, monkeypatch)) >= 3, "reconstructions, latent space, mistakes"


def test_parakeet_notebook_runs_on_pipeline_outputs(parakeet_finetune_run, monkeypatch):
    project, _ = parakeet_finetune_run
    outputs = execute("parakeet_finetune.ipynb", project, monkeypatch)
    assert images(outputs) >= 3, "per-clip WER, waveform and spectrogram, training curves"
    assert any("audio/wav" in o.get("data", {}).get("text/html", "") for o in outputs), "the clip to listen to"
