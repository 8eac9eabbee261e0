"""neural_odes_flows: generated 2-D densities -> one continuous normalizing flow each
(maximum likelihood, Hutchinson trace) -> exact-trace test NLL against a Gaussian, the
Hutchinson estimate against the exact trace, density and sample plots, the flow as an
MLflow model. Tune, compress and explain do not apply (README)."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.neural_odes_flows import nodes

AREA = "neural_odes_flows"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.train_flows, [p, "params:trainer"], [f"{AREA}_models", f"{AREA}_histories", f"{AREA}_results"],
                 name="train_flows"),
            Node(nodes.density_figure, [f"{AREA}_models", p], f"{AREA}_plot_densities", name="plot_densities"),
            Node(nodes.curves_figure, f"{AREA}_histories", f"{AREA}_plot_training", name="plot_training"),
            Node(nodes.summary_metrics, f"{AREA}_results", f"{AREA}_metrics", name="summary_metrics"),
            Node(nodes.log_model, [f"{AREA}_models", f"{p}.mlflow_model"], f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
