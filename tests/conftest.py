"""Shared fixtures: a throw-away copy of the project for end-to-end Kedro runs."""

from __future__ import annotations

import importlib.abc
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]

for name, value in {"KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}.items():
    os.environ.setdefault(name, value)


@pytest.fixture(scope="session")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """conf/, pyproject.toml and empty data layers in a temporary folder, so a test run
    writes its data, mlflow.db and MLflow artifacts there and never into the real project."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root)
    shutil.copytree(PROJECT_ROOT / "notebooks", root / "notebooks")
    (root / "src").mkdir()  # the package itself is imported from the installed project
    (root / "data").mkdir()
    return root


class NemoImportRecorder(importlib.abc.MetaPathFinder):
    """Refuses and records every import of NeMo while installed, even in a process where
    other tests have imported NeMo already (their modules are hidden meanwhile)."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._hidden: dict[str, Any] = {}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "nemo" or name.startswith("nemo."):
            self.attempts.append(name)
            raise ImportError(f"{name} was imported by a pipeline that must not need NeMo")
        return None

    def __enter__(self) -> NemoImportRecorder:
        self._hidden = {name: sys.modules.pop(name) for name in list(sys.modules)
                        if name == "nemo" or name.startswith("nemo.")}
        sys.meta_path.insert(0, self)
        return self

    def __exit__(self, *exc: Any) -> None:
        sys.meta_path.remove(self)
        sys.modules.update(self._hidden)


@pytest.fixture(scope="session")
def mnist_autoencoder_run(project_copy: Path) -> tuple[Path, Any]:
    """A plain `kedro run --env test` (the default pipeline) in the project copy, and its
    MLflow run. NeMo imports are refused and recorded meanwhile (see test_pipeline.py)."""
    with NemoImportRecorder() as recorder:
        run_kedro(project_copy, pipeline=None)
    runs = mlflow_runs(project_copy, "mnist_autoencoder")
    assert len(runs) == 1, "one MLflow run, named after the pipeline"
    assert not recorder.attempts, f"the default run imported {recorder.attempts}"
    return project_copy, runs[0]


@pytest.fixture(scope="session")
def parakeet_finetune_run(project_copy: Path) -> tuple[Path, Any]:
    """`kedro run --pipeline=parakeet_finetune --env test` in the project copy (demo corpus,
    tiny offline base, two trials, final fine-tuning, evaluation) and its MLflow run."""
    run_kedro(project_copy, pipeline="parakeet_finetune")
    runs = mlflow_runs(project_copy, "parakeet_finetune")
    assert len(runs) == 1, "one MLflow run, named after the pipeline"
    return project_copy, runs[0]


def run_kedro(project: Path, pipeline: str | None, env: str = "test", params: dict[str, Any] | None = None) -> dict[str, Any]:
    """``kedro run [--pipeline=X] --env <env>`` through KedroSession, from inside ``project``."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    old_cwd = Path.cwd()
    os.chdir(project)
    try:
        bootstrap_project(project)
        with KedroSession.create(project_path=project, env=env, runtime_params=params) as session:
            return session.run(pipeline_names=[pipeline] if pipeline else None)
    finally:
        os.chdir(old_cwd)


def mlflow_runs(project: Path, run_name: str, experiment: str = "dl_roadmap_test") -> list[Any]:
    """Finished MLflow runs with this name in the project's sqlite store (test runs go to
    their own experiment, conf/test/mlflow.yml)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(experiment)
    return client.search_runs([experiment.experiment_id], f"attributes.run_name = '{run_name}'")


def run_area(project: Path, area: str, **run_args: Any) -> tuple[Path, Any]:
    """``kedro run --pipeline=<area> --env test`` in ``project``, and its MLflow run (one run,
    named after the pipeline: a second would mean the run was split or repeated)."""
    run_kedro(project, pipeline=area, **run_args)
    runs = mlflow_runs(project, area)
    assert len(runs) == 1, "one MLflow run, named after the pipeline"
    return project, runs[0]


def logged_models(project: Path, run: Any) -> list[Any]:
    """The MLflow models that ``run`` logged, from the project's sqlite store."""
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    return mlflow.search_logged_models(filter_string=f"source_run_id = '{run.info.run_id}'", output_format="list")
