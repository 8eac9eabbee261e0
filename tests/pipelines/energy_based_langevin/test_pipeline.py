"""End to end: `kedro run --pipeline=energy_based_langevin --env test`, its catalog outputs
(under the test environment's data root) and its MLflow run."""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image

from tests.conftest import logged_models, run_area

AREA = "energy_based_langevin"
PLOTS = ("training", "samples", "ood_histograms", "yardstick")


@pytest.fixture(scope="module")
def area_run(project_copy):
    return run_area(project_copy, AREA)


def test_outputs_are_in_the_catalog(area_run) -> None:
    project, _ = area_run
    reports = project / "data" / "test" / "08_reporting" / AREA
    detection = pd.read_csv(reports / "ood_detection.csv")
    ours = detection[detection["model"].isin(["jem", "classifier"])]
    assert set(zip(ours["model"], ours["score"])) == {(m, s) for m in ("jem", "classifier") for s in ("energy", "msp")}
    assert ours["auroc"].between(0, 1).all() and ours["fpr_at_95_tpr"].between(0, 1).all()
    assert detection["model"].str.contains("Ren et al. 2019").any(), "the published anchors"
    yardstick = pd.read_csv(reports / "yardstick.csv")
    assert yardstick["model"].iloc[0].startswith("EBM") and yardstick["n"].iloc[0] == 64  # conf/test
    assert {"reference: real images", "reference: shuffled pixels"} <= set(yardstick["model"])
    history = pd.read_csv(reports / "jem_history.csv")
    assert {"ce", "acc", "e_data", "e_sample"} <= set(history.columns)
    for plot in PLOTS:
        assert (reports / f"{plot}.png").stat().st_size > 0
    gif = Image.open(reports / "langevin_chain.gif")
    assert gif.n_frames == 4, "the start and every second of 6 steps (conf/test)"
    assert not (project / "data" / "08_reporting" / AREA).exists(), "a test run writes under data/test only"


def test_the_mlflow_run_has_metrics_plots_and_the_generator(area_run) -> None:
    project, run = area_run
    assert 0.0 <= run.data.metrics["jem_energy_auroc"] <= 1.0
    assert "yardstick_fid" in run.data.metrics
    assert "jem/e_sample" in run.data.metrics, "per-iteration metrics of the training"
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{plot}.png" for plot in PLOTS} | {"plots/langevin_chain.gif"} <= artifacts
    models = logged_models(project, run)
    assert [m.name for m in models] == [f"{AREA}_jem"]
    generator = mlflow.pyfunc.load_model(models[0].model_uri)
    images = generator.predict(pd.DataFrame({"n": [3], "seed": [0]}))
    assert images.shape == (3, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
