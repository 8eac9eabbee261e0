"""The project hooks: a failed run leaves a good run's files as they were; parameters are
checked before the first node."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.hooks import _create_hook_manager
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner

from dl_roadmap.core.schema import ParameterError
from dl_roadmap.hooks import BACKUP_FOLDER, CheckParametersHook, KeepGoodOutputsHook, local_output_path, pipeline_names


def _catalog(root: Path) -> DataCatalog:
    return DataCatalog.from_config(
        {
            "table": {"type": "pandas.CSVDataset", "filepath": str(root / "reports" / "table.csv")},
            "summary": {"type": "json.JSONDataset", "filepath": str(root / "reports" / "summary.json")},
            "model": {"type": "pickle.PickleDataset", "filepath": str(root / "models" / "model.pkl"), "versioned": True},
        }
    )


def _run(catalog: DataCatalog, hook: KeepGoodOutputsHook, fail: bool) -> None:
    """table -> summary -> (optionally) a node that raises, through Kedro's runner with the hook."""

    def make_table(n: int) -> pd.DataFrame:
        return pd.DataFrame({"x": range(n)})

    def summarize(table: pd.DataFrame) -> dict:
        return {"rows": len(table)}

    def last(summary: dict) -> dict:
        if fail:
            raise RuntimeError("the last node broke")
        return summary

    pipeline = Pipeline([
        Node(make_table, "params:n", "table", name="make_table"),
        Node(summarize, "table", "summary", name="summarize"),
        Node(last, "summary", "model", name="last"),
    ])
    manager = _create_hook_manager()
    manager.register(hook)
    hook.after_catalog_created(catalog)
    try:
        SequentialRunner().run(pipeline, catalog, manager)
    except RuntimeError:
        hook.on_pipeline_error()
        raise
    hook.after_pipeline_run()


def test_a_failed_run_puts_back_what_the_good_run_wrote(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    catalog["params:n"] = 3
    hook = KeepGoodOutputsHook()
    _run(catalog, hook, fail=False)
    good_table = (tmp_path / "reports" / "table.csv").read_bytes()
    good_summary = (tmp_path / "reports" / "summary.json").read_bytes()
    assert not (tmp_path / "reports" / BACKUP_FOLDER).exists(), "a finished run keeps no old copies"

    catalog = _catalog(tmp_path)
    catalog["params:n"] = 7
    with pytest.raises(RuntimeError, match="the last node broke"):
        _run(catalog, hook, fail=True)
    assert (tmp_path / "reports" / "table.csv").read_bytes() == good_table
    assert (tmp_path / "reports" / "summary.json").read_bytes() == good_summary
    assert not (tmp_path / "reports" / BACKUP_FOLDER).exists()


def test_a_failed_first_run_leaves_no_half_written_outputs(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    catalog["params:n"] = 3
    with pytest.raises(RuntimeError):
        _run(catalog, KeepGoodOutputsHook(), fail=True)
    assert not (tmp_path / "reports" / "table.csv").exists()
    assert not (tmp_path / "reports" / "summary.json").exists()


def test_a_good_run_replaces_the_files(tmp_path: Path) -> None:
    hook = KeepGoodOutputsHook()
    for n in (3, 5):
        catalog = _catalog(tmp_path)
        catalog["params:n"] = n
        _run(catalog, hook, fail=False)
    assert len(pd.read_csv(tmp_path / "reports" / "table.csv")) == 5


def test_only_unversioned_local_files_are_protected(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    catalog["in_memory"] = 1
    assert local_output_path(catalog, "table") == tmp_path / "reports" / "table.csv"
    assert local_output_path(catalog, "model") is None  # each run writes its own version
    assert local_output_path(catalog, "in_memory") is None
    assert local_output_path(catalog, "no_such_dataset") is None
    mlflow_model = DataCatalog.from_config({"served": {
        "type": "kedro_mlflow.io.models.MlflowModelTrackingDataset", "flavor": "mlflow.pytorch"}})
    assert local_output_path(mlflow_model, "served") is None, "a model logged to MLflow has no local file"


def test_the_default_pipeline_is_named() -> None:
    assert pipeline_names({"pipeline_names": None}) == ["mnist_autoencoder"]
    assert pipeline_names({"pipeline_names": ["__default__"]}) == ["mnist_autoencoder"]
    assert pipeline_names({"pipeline_names": ["activations"]}) == ["activations"]


def test_parameters_are_checked_before_the_run(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    catalog["parameters"] = {"trainer": {"accelerator": "cpu", "num_threads": 0}}
    with pytest.raises(ParameterError, match=r"trainer\.num_threads: Input should be greater than or equal to 1"):
        CheckParametersHook().before_pipeline_run({"pipeline_names": []}, catalog)
