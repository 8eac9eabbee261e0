"""Project hooks: the default pipeline's name, parameter checks before the first node,
a failed run that leaves a good run's files as they were, and MLflow runs closed."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from dl_roadmap.pipeline_registry import DEFAULT_PIPELINE, RUNS_FIRST

logger = logging.getLogger(__name__)

BACKUP_FOLDER = ".previous"  # beside each replaced file, for the length of a run


def pipeline_names(run_params: dict[str, Any]) -> list[str]:
    """The pipelines a run runs, with the default one named instead of '__default__'."""
    names = run_params.get("pipeline_names")
    if not names or list(names) == ["__default__"]:
        return [DEFAULT_PIPELINE]
    return list(names)


class DefaultPipelineNameHook:
    """Give a plain ``kedro run`` the name of the pipeline it runs.

    kedro-mlflow names each MLflow run after the pipeline; without this a plain
    ``kedro run`` would appear as '__default__'. ``tryfirst`` puts this hook ahead of
    the plugin's, and both see the same ``run_params`` dict.
    """

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        run_params["pipeline_names"] = pipeline_names(run_params)


class CheckParametersHook:
    """Check every parameter block the run uses against its schema (core/schema.py)
    before the first node starts, and before an MLflow run is opened for it."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: Any) -> None:
        from dl_roadmap.core.schema import check_parameters

        names = pipeline_names(run_params)
        # A pipeline that runs another first (pipeline_registry.RUNS_FIRST) reads its blocks too.
        with_first = [first for name in names for first in RUNS_FIRST.get(name, ())] + names
        check_parameters(catalog.load("parameters"), list(dict.fromkeys(with_first)))


class KeepGoodOutputsHook:
    """A failed run puts back every file it replaced and removes the files it created.

    Before a dataset is saved, the file a previous run left there is moved aside (a rename
    on the same disk, so no copy); a run that finishes deletes the old copies, a run that
    fails moves them back. Versioned datasets write a new version each run and are left alone.
    """

    def __init__(self) -> None:
        self._catalog: Any = None
        self._replaced: dict[Path, Path | None] = {}  # written path -> its previous file, if any

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        self._catalog, self._replaced = catalog, {}

    @hook_impl
    def before_dataset_saved(self, dataset_name: str) -> None:
        path = local_output_path(self._catalog, dataset_name)
        if path is None or path in self._replaced:
            return
        backup = None
        if path.exists():
            backup = path.parent / BACKUP_FOLDER / path.name
            _remove(backup)
            backup.parent.mkdir(parents=True, exist_ok=True)
            path.rename(backup)
        self._replaced[path] = backup

    @hook_impl
    def after_pipeline_run(self) -> None:
        for backup in self._replaced.values():
            if backup is not None:
                _remove(backup)
                _remove_if_empty(backup.parent)
        self._replaced = {}

    @hook_impl
    def on_pipeline_error(self) -> None:
        for path, backup in self._replaced.items():
            _remove(path)
            if backup is not None and backup.exists():
                backup.rename(path)
                _remove_if_empty(backup.parent)
        if self._replaced:
            logger.warning("The run failed: %d output file(s) were put back as the last good run left them",
                           len(self._replaced))
        self._replaced = {}


class CloseFinishedMlflowRunHook:
    """Leave no finished MLflow run active after ``session.run``.

    kedro-mlflow re-enters its run before every node; with mlflow 3 each re-entry stacks
    another handle on the same run and only one is closed at the end. In a CLI run the
    process exits anyway, but a second ``session.run`` in the same process (a notebook,
    the tests) would log into the finished run instead of starting its own.
    """

    @hook_impl(trylast=True)
    def after_pipeline_run(self) -> None:
        import mlflow

        while (run := mlflow.active_run()) is not None:
            status = mlflow.tracking.MlflowClient().get_run(run.info.run_id).info.status
            if status == "RUNNING":  # a run the user opened before `kedro run`: theirs to close
                break
            mlflow.end_run(status)


def local_output_path(catalog: Any, name: str) -> Path | None:
    """The local file or folder an unversioned catalog dataset saves to, else None
    (memory datasets, MLflow metrics, versioned files, remote paths)."""
    if catalog is None:
        return None
    try:
        dataset = catalog.get(name)
    except Exception:  # a name the catalog cannot resolve is nothing to protect
        return None
    filepath = getattr(dataset, "_filepath", None)
    if filepath is None or getattr(dataset, "_version", None) is not None:
        return None
    if str(filepath) in ("", "."):  # MLflow model datasets: the model goes to the MLflow run
        return None
    if getattr(dataset, "_protocol", "file") not in ("file", "local", None):
        return None
    return Path(str(filepath))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _remove_if_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
