"""activations: MNIST -> the same deep MLP under each activation, trained and measured
alike -> results table, depth profiles, dead units; then the shared tune stage (Optuna over
the chosen activation's settings) and the explain stage on the tuned model."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.image.data import split_mnist
from dl_roadmap.image.tasks import MLP_TASK
from dl_roadmap.pipelines.activations import nodes

AREA = "activations"


def create_pipeline(**kwargs) -> Pipeline:
    # The tune and explain stages rebuild, train and score the MLP through the image
    # library's MLP_TASK: a DeepMLP from the `activations.tuning` block's `model`.
    # No compress stage: see this folder's README.
    return (
        comparison_pipeline()
        + tune_pipeline(MLP_TASK, area=AREA, data="activations_splits", config="params:activations.tuning")
        + explain_pipeline(MLP_TASK, area=AREA, model="activations.tune.model", data="activations_splits")
    )


def comparison_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(split_mnist, ["mnist_raw", "params:activations.data"],
                 ["activations_splits", "activations_ingest_summary"], name="split_mnist"),
            Node(
                nodes.train_variants,
                ["activations_splits", "params:activations.variants", "params:activations.model",
                 "params:activations.fit", "params:activations.statistics", "params:trainer"],
                ["activations_histories", "activations_layer_stats", "activations_scores"], name="train_variants",
            ),
            Node(nodes.summarize_variants, ["activations_scores", "activations_layer_stats"],
                 ["activations_results", "activations_metrics"], name="summarize_variants"),
            Node(nodes.curves_figure, "activations_histories", "activations_plot_training_curves",
                 name="plot_training_curves"),
            Node(nodes.depth_profile_figure, "activations_layer_stats", "activations_plot_depth_profile",
                 name="plot_depth_profile"),
            Node(nodes.dead_units_figure, ["activations_layer_stats", "activations_scores"],
                 "activations_plot_dead_units", name="plot_dead_units"),
        ]
    )
