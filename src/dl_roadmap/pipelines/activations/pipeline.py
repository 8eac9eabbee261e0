"""activations: MNIST -> the same deep MLP under each activation, trained and measured
alike -> results table, depth profiles, dead units; then the shared tune stage (Optuna over
the chosen activation's settings) and the explain stage on the tuned model."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages import StageTask
from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.pipelines.activations import nodes
from dl_roadmap.pipelines.mnist_autoencoder import nodes as mnist_nodes

AREA = "activations"

# The tune and explain stages rebuild, train and score the MLP from the `activations.tuning`
# block; the data and the classification step are the MNIST area's.
MLP_TASK = StageTask(
    build_model=nodes.mlp_from_config,
    make_step=mnist_nodes.classifier_step_for,
    datasets=mnist_nodes.labelled_splits,
    metric="acc",
    direction="maximize",
)


def create_pipeline(**kwargs) -> Pipeline:
    # No compress stage: see this folder's README.
    return (
        comparison_pipeline()
        + tune_pipeline(MLP_TASK, area=AREA, data="activations_splits", config="params:activations.tuning")
        + explain_pipeline(MLP_TASK, area=AREA, model="activations.tune.model", data="activations_splits")
    )


def comparison_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(mnist_nodes.split_mnist, ["mnist_raw", "params:activations.data"],
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
