"""``tune_pipeline``: the tune stage as a Kedro modular pipeline under ``<area>.tune``."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline, pipeline

from dl_roadmap.core.stages.contract import check_tune
from dl_roadmap.core.stages.task import StageTask, bind
from dl_roadmap.core.stages.tune import nodes


def tune_pipeline(
    task: StageTask, *, area: str, data: str, config: str, base: str | None = None, outputs: dict[str, str] | None = None
) -> Pipeline:
    """Optuna search -> best parameters -> final model, namespaced ``<area>.tune``.

    Args:
        task: the area's StageTask: supervised (build_model, make_step, datasets) or with
            an ``objective``; checked here, so a task that has neither fails when the
            pipeline is built.
        area: the area's name (namespace, default storage folder, catalog paths).
        data: catalog dataset that ``task.datasets`` turns into splits (the objective's ``data``).
        config: the area's training config, as ``params:<key>``.
        base: optional catalog dataset handed to ``task.build_model``.
        outputs: stage outputs the area names itself, e.g. ``{"model": "digit_classifier"}``
            when the tuned model is the area's model; the others keep their stage names.
    Outputs (catalog names): ``<area>.tune.trials``, ``.best_params``, ``.best_config``,
    ``.model``, ``.history``, ``.metrics``, ``.study_metrics`` and the plots
    ``.optimization_history_plot``, ``.param_importances_plot``, ``.slice_plot``.
    """
    check_tune(task, area)
    if not config.startswith("params:"):
        raise ValueError(f"tune_pipeline(config=...): a parameters key such as 'params:classifier', got {config!r}")
    with_base = {"base": "base"} if base else {}
    stage = Pipeline(
        [
            Node(
                bind(nodes.optimize, task, area),
                {"data": "data", "config": "params:config", "trainer": "params:trainer", "study": "params:study",
                 "search_space": "params:search_space", "trial": "params:trial", **with_base},
                "trials", name="optimize",
            ),
            Node(bind(nodes.select_best, area), ["trials", "params:study", "params:trainer"], "best_params",
                 name="select_best"),
            Node(nodes.apply_best, ["params:config", "best_params"], "best_config", name="apply_best"),
            Node(
                bind(nodes.retrain_best, task),
                {"data": "data", "best_config": "best_config", "trainer": "params:trainer", **with_base},
                ["model", "history", "metrics"], name="retrain_best",
            ),
            Node(nodes.study_metrics, ["trials", "best_params"], "study_metrics", name="summarize_study"),
            Node(
                bind(nodes.study_figures, area), ["trials", "params:study", "params:trainer"],
                ["optimization_history_plot", "param_importances_plot", "slice_plot"], name="plot_study",
            ),
        ]
    )
    return pipeline(
        stage,
        namespace=f"{area}.tune",
        inputs={"data": data, **({"base": base} if base else {})},
        outputs=outputs or None,
        parameters={"params:trainer": "params:trainer", "params:config": config},
    )
