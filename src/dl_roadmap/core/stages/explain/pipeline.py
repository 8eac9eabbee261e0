"""``explain_pipeline``: the explain stage as a Kedro modular pipeline under ``<area>.explain``."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline, pipeline

from dl_roadmap.core.stages.explain import nodes
from dl_roadmap.core.stages.task import StageTask, bind


def explain_pipeline(task: StageTask, *, area: str, model: str, data: str) -> Pipeline:
    """SHAP and LIME maps of test items and their deletion-curve faithfulness, namespaced
    ``<area>.explain`` (parameters in nodes.py's docstring, under ``<area>: {explain: ...}``).

    Args:
        task: the area's StageTask.
        area: the area's name (namespace and catalog paths).
        model: catalog dataset holding the trained classifier (returns logits).
        data: catalog dataset that ``task.datasets`` turns into splits.
    Outputs (catalog names): ``<area>.explain.attributions``, ``.deletion_curves``,
    ``.faithfulness``, ``.metrics`` and the plots ``.attribution_maps_plot`` and
    ``.deletion_curves_plot``.
    """
    stage = Pipeline(
        [
            Node(bind(nodes.select_examples, task, area), ["data", "model", "params:examples", "params:seed"],
                 "examples", name="select_examples"),
            Node(bind(nodes.explain_with_shap, task, area),
                 ["model", "data", "examples", "params:shap", "params:seed"], "shap_maps", name="explain_with_shap"),
            Node(bind(nodes.explain_with_lime, area),
                 ["model", "examples", "params:lime", "params:baseline", "params:seed"], "lime_maps",
                 name="explain_with_lime"),
            Node(nodes.collect_attributions, ["examples", "shap_maps", "lime_maps"], "attributions",
                 name="collect_attributions"),
            Node(bind(nodes.measure_deletion, area),
                 ["model", "attributions", "params:deletion", "params:baseline", "params:seed"], "deletion_curves",
                 name="measure_deletion"),
            Node(nodes.summarize_faithfulness, "deletion_curves", ["faithfulness", "metrics"],
                 name="summarize_faithfulness"),
            Node(nodes.plot_attributions, "attributions", "attribution_maps_plot", name="plot_attributions"),
            Node(nodes.plot_deletion, ["deletion_curves", "faithfulness"], "deletion_curves_plot",
                 name="plot_deletion_curves"),
        ]
    )
    return pipeline(stage, namespace=f"{area}.explain", inputs={"model": model, "data": data})
