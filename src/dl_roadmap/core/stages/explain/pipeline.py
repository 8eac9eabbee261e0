"""``explain_pipeline``: the explain stage as a Kedro modular pipeline under ``<area>.explain``."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline, pipeline

from dl_roadmap.core.stages.contract import check_explain
from dl_roadmap.core.stages.explain import feature_nodes, nodes
from dl_roadmap.core.stages.explain.features import LIME_KINDS
from dl_roadmap.core.stages.task import StageTask, bind


def explain_pipeline(task: StageTask, *, area: str, model: str, data: str) -> Pipeline:
    """Attributions of test items and their deletion-curve faithfulness, namespaced
    ``<area>.explain`` (parameters in nodes.py's docstring, under ``<area>: {explain: ...}``).

    Images (``task.input_kind``, default ``image``) get SHAP and LIME maps; sequences,
    tabular features, node features and observations get per-feature SHAP, gradient x input
    and (tabular, observation) LIME scores, plotted with the task's feature names. What the
    kind needs from the task is checked here (contract.py), so a task that cannot give it
    fails when the pipeline is built.

    Args:
        task: the area's StageTask.
        area: the area's name (namespace and catalog paths).
        model: catalog dataset holding the trained model (a classifier returning logits, or
            any differentiable model whose output the task's ``explain_output`` chooses).
        data: the area's catalog data (splits or example inputs come from it).
    Outputs (catalog names): ``<area>.explain.attributions``, ``.deletion_curves``,
    ``.faithfulness``, ``.metrics`` and the plots ``.attribution_maps_plot`` and
    ``.deletion_curves_plot``.
    """
    check_explain(task, area)
    # A chosen output wraps the model once; a classifier goes to the nodes as it is.
    explained = "explained_model" if task.explain_output is not None else "model"
    stage_nodes = [Node(bind(nodes.choose_output, task), "model", "explained_model", name="choose_output")] \
        if task.explain_output is not None else []
    stage_nodes += _image_nodes(task, area, explained) if task.input_kind == "image" else \
        _feature_nodes(task, area, explained)
    stage_nodes += [
        Node(nodes.summarize_faithfulness, "deletion_curves", ["faithfulness", "metrics"],
             name="summarize_faithfulness"),
    ]
    return pipeline(Pipeline(stage_nodes), namespace=f"{area}.explain", inputs={"model": model, "data": data})


def _image_nodes(task: StageTask, area: str, model: str) -> list[Node]:
    return [
        Node(bind(nodes.select_examples, task, area), ["data", model, "params:examples", "params:seed"],
             "examples", name="select_examples"),
        Node(bind(nodes.explain_with_shap, task, area),
             [model, "data", "examples", "params:shap", "params:seed"], "shap_maps", name="explain_with_shap"),
        Node(bind(nodes.explain_with_lime, area),
             [model, "examples", "params:lime", "params:baseline", "params:seed"], "lime_maps",
             name="explain_with_lime"),
        Node(nodes.collect_attributions, ["examples", "shap_maps", "lime_maps"], "attributions",
             name="collect_attributions"),
        Node(bind(nodes.measure_deletion, area),
             [model, "attributions", "params:deletion", "params:baseline", "params:seed"], "deletion_curves",
             name="measure_deletion"),
        Node(nodes.plot_attributions, "attributions", "attribution_maps_plot", name="plot_attributions"),
        Node(nodes.plot_deletion, ["deletion_curves", "faithfulness"], "deletion_curves_plot",
             name="plot_deletion_curves"),
    ]


def _feature_nodes(task: StageTask, area: str, model: str) -> list[Node]:
    f = feature_nodes
    with_lime = task.input_kind in LIME_KINDS
    maps = {"examples": "examples", "shap": "shap_maps", "gradient_x_input": "gradient_maps",
            **({"lime": "lime_maps"} if with_lime else {})}
    lime = [Node(bind(f.explain_features_with_lime, task, area),
                 [model, "data", "examples", "params:lime", "params:seed"], "lime_maps",
                 name="explain_with_lime")] if with_lime else []
    return [
        Node(bind(f.select_feature_items, task, area), ["data", model, "params:examples", "params:seed"],
             "examples", name="select_examples"),
        Node(bind(f.explain_features_with_shap, task, area),
             [model, "data", "examples", "params:shap", "params:baseline", "params:seed"], "shap_maps",
             name="explain_with_shap"),
        Node(bind(f.explain_features_with_gradients, task, area), [model, "examples", "params:baseline"],
             "gradient_maps", name="explain_with_gradients"),
        *lime,
        Node(f.collect_feature_attributions, maps, "attributions", name="collect_attributions"),
        Node(bind(f.measure_feature_deletion, task, area),
             [model, "attributions", "params:deletion", "params:baseline", "params:seed"], "deletion_curves",
             name="measure_deletion"),
        Node(bind(f.plot_feature_attributions, task), "attributions", "attribution_maps_plot",
             name="plot_attributions"),
        Node(bind(f.plot_feature_deletion, task), ["deletion_curves", "faithfulness"], "deletion_curves_plot",
             name="plot_deletion_curves"),
    ]
