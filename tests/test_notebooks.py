"""Notebooks are executed against a finished test run so they cannot rot."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import PROJECT_ROOT


@pytest.mark.parametrize("notebook", ["mnist_autoencoder.ipynb"])
def test_notebook_runs_on_pipeline_outputs(notebook, mnist_autoencoder_run):
    project, _ = mnist_autoencoder_run
    nb = nbformat.read(PROJECT_ROOT / "notebooks" / notebook, as_version=4)
    # The kernel starts in the project copy's notebooks/ folder and must find it by itself.
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(project / "notebooks")}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3, "reconstructions, latent space, mistakes"
