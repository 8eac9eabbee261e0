"""optimization: MNIST -> the same MLP under seven optimizers written from their equations
(curves, learning-rate sweep, weight EMA) -> gradients through depth (vanishing) and
through time (exploding, clipping) -> moving averages of the loss -> results; then the
shared tune stage on the momentum SGD's learning rate and momentum."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.image.data import split_mnist
from dl_roadmap.image.tasks import MLP_TASK
from dl_roadmap.pipelines.optimization import figures, nodes

AREA = "optimization"


def create_pipeline(**kwargs) -> Pipeline:
    # Tune rebuilds and trains the comparison's MLP (the image library's MLP_TASK: a DeepMLP
    # from the config's `model` block) with the config's optimizer: our own SGD with momentum.
    # No compress or explain stage: see this folder's README.
    return experiments_pipeline() + tune_pipeline(
        MLP_TASK, area=AREA, data="optimization_splits", config="params:optimization.tuning"
    )


def experiments_pipeline() -> Pipeline:
    p = "params:optimization."
    return Pipeline(
        [
            Node(split_mnist, ["mnist_raw", p + "data"],
                 ["optimization_splits", "optimization_ingest_summary"], name="split_mnist"),
            Node(nodes.make_sequences, p + "sequences", "optimization_sequences", name="make_sequences"),
            Node(
                nodes.compare_optimizers,
                ["optimization_splits", p + "compare.variants", p + "model", p + "fit", p + "weight_ema",
                 p + "compare.target_loss", "params:trainer"],
                ["optimization_table_histories", "optimization_table_steps", "optimization_table_weight_ema",
                 "optimization_table_compare"],
                name="compare_optimizers",
            ),
            Node(
                nodes.sweep_learning_rates,
                ["optimization_splits", p + "compare.variants", p + "lr_sweep", p + "model", p + "fit",
                 "params:trainer"],
                "optimization_table_lr_sweep", name="sweep_learning_rates",
            ),
            Node(
                nodes.gradient_flow,
                ["optimization_splits", p + "depth.variants", p + "depth.model", p + "depth.fit", "params:trainer"],
                ["optimization_table_depth_grad_norms", "optimization_table_depth_histories",
                 "optimization_table_depth"],
                name="gradient_flow",
            ),
            Node(
                nodes.train_with_clipping,
                ["optimization_sequences", p + "clipping.variants", p + "clipping.model", p + "clipping.fit",
                 p + "clipping.explosion_threshold", "params:trainer"],
                ["optimization_table_clipping_steps", "optimization_table_clipping_histories",
                 "optimization_table_clipping"],
                name="train_with_clipping",
            ),
            Node(nodes.smooth_training_loss, ["optimization_table_steps", p + "smoothing"],
                 "optimization_table_loss_smoothing", name="smooth_training_loss"),
            Node(
                nodes.summarize,
                ["optimization_table_compare", "optimization_table_lr_sweep", "optimization_table_depth",
                 "optimization_table_clipping", "optimization_table_loss_smoothing"],
                ["optimization_results", "optimization_metrics"], name="summarize",
            ),
            Node(figures.optimizer_curves_figure, "optimization_table_histories", "optimization_plot_optimizer_curves",
                 name="plot_optimizer_curves"),
            Node(figures.lr_sweep_figure, "optimization_table_lr_sweep", "optimization_plot_lr_sweep",
                 name="plot_lr_sweep"),
            Node(figures.weight_ema_figure, ["optimization_table_weight_ema", "optimization_table_compare"],
                 "optimization_plot_weight_ema", name="plot_weight_ema"),
            Node(figures.loss_smoothing_figure, ["optimization_table_loss_smoothing", p + "smoothing"],
                 "optimization_plot_loss_smoothing", name="plot_loss_smoothing"),
            Node(figures.depth_gradients_figure, "optimization_table_depth_grad_norms",
                 "optimization_plot_depth_gradients", name="plot_depth_gradients"),
            Node(figures.clipping_figure, ["optimization_table_clipping_steps", "optimization_table_clipping_histories"],
                 "optimization_plot_clipping", name="plot_clipping"),
        ]
    )
