"""Project hooks."""

from __future__ import annotations

from typing import Any

from kedro.framework.hooks import hook_impl

from dl_roadmap.pipeline_registry import DEFAULT_PIPELINE


class DefaultPipelineNameHook:
    """Give a plain ``kedro run`` the name of the pipeline it runs.

    kedro-mlflow names each MLflow run after the pipeline; without this a plain
    ``kedro run`` would appear as '__default__'. ``tryfirst`` puts this hook ahead of
    the plugin's, and both see the same ``run_params`` dict.
    """

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        names = run_params.get("pipeline_names")
        if not names or list(names) == ["__default__"]:
            run_params["pipeline_names"] = [DEFAULT_PIPELINE]


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
