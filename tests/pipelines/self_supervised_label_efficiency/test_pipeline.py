"""End to end: `kedro run --pipeline=self_supervised_label_efficiency --env test` on encoders
saved where a self_supervised run puts them, its catalog outputs and its MLflow run."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io.core import Version
from kedro_datasets.pickle import PickleDataset
from mlflow.tracking import MlflowClient

from dl_roadmap.image.ssl_train import build_encoder
from tests.conftest import run_area

AREA = "self_supervised_label_efficiency"


@pytest.fixture(scope="module")
def area_run(project_copy):
    """Encoders of the test environment's shape (conf/test/parameters_self_supervised.yml), saved
    as the self_supervised pipeline's versioned `self_supervised_encoders` would be."""
    shape = {"latent_dim": 16, "channels": [4, 8]}
    encoders = {name: build_encoder(shape, seed).eval() for seed, name in enumerate(["simclr", "autoencoder"])}
    path = project_copy / "data" / "test" / "06_models" / "self_supervised" / "encoders.pkl"
    PickleDataset(filepath=str(path), version=Version(None, None)).save(encoders)
    return run_area(project_copy, AREA)


def test_the_table_has_every_budget_recipe_and_encoder(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    runs = pd.read_csv(reports / "runs.csv")
    assert len(runs) == (2 + 1) * 2 * 3, "(2 seeds at 2 per class + 1 with all) x 2 recipes x 3 encoders"
    assert runs["test_accuracy"].between(0, 1).all()
    table = pd.read_csv(reports / "table.csv")
    assert set(table["encoder"]) == {"simclr", "autoencoder", "scratch"}
    assert (table.loc[table["encoder"] == "scratch", "gain_over_scratch"] == 0).all()
    assert set(table.loc[table["labels_per_class"].astype(str) == "2", "seeds"]) == {2}
    assert (reports / "label_efficiency.png").stat().st_size > 0
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_the_accuracies_and_the_plot(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["2_per_class.naive.simclr"] <= 1.0
    assert any(key.startswith("label_efficiency/2/naive/scratch/0/") for key in run.data.metrics), "per-epoch metrics"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    assert "plots/label_efficiency.png" in {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
