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
