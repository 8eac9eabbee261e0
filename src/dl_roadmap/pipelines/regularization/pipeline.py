"""regularization: MNIST -> a small training set -> the same MLP under every regulariser,
L2 vs AdamW, k-fold model selection, bagging and boosting -> tables and plots; then the
shared tune stage (Optuna over dropout and weight decay) and explain on the tuned model."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.image.data import split_mnist
from dl_roadmap.image.tasks import classification_task
from dl_roadmap.pipelines.regularization import figures, nodes
from dl_roadmap.pipelines.regularization.training import build_mlp, step_for

AREA = "regularization"

# The regularised MLP of a config, trained on cross-entropy plus the config's L1/L2 terms.
MLP_TASK = classification_task(build_mlp, make_step=step_for)


def create_pipeline(**kwargs) -> Pipeline:
    # No compress stage: see this folder's README.
    return (
        comparison_pipeline()
        + tune_pipeline(MLP_TASK, area=AREA, data="regularization_splits", config="params:regularization.tuning")
        + explain_pipeline(MLP_TASK, area=AREA, model="regularization.tune.model", data="regularization_splits")
    )


def comparison_pipeline() -> Pipeline:
    base, trainer, splits = "params:regularization.base", "params:trainer", "regularization_splits"
    return Pipeline(
        [
            Node(split_mnist, ["mnist_raw", "params:regularization.data"],
                 [splits, "regularization_ingest_summary"], name="split_mnist"),
            # 1. every regulariser, one table
            Node(nodes.train_variants, [splits, base, "params:regularization.variants", trainer],
                 ["regularization_histories", "regularization_scores"], name="train_variants"),
            Node(nodes.summarize_variants, ["regularization_scores", "params:regularization.reference"],
                 ["regularization_results", "regularization_variant_metrics"], name="summarize_variants"),
            Node(figures.gap_figure, "regularization_results", "regularization_plot_train_test_gap",
                 name="plot_train_test_gap"),
            Node(figures.curves_figure, "regularization_histories", "regularization_plot_training_curves",
                 name="plot_training_curves"),
            Node(figures.validation_loss_figure, "regularization_histories", "regularization_plot_validation_loss",
                 name="plot_validation_loss"),
            Node(nodes.compare_l2_and_weight_decay, [splits, base, "params:regularization.weight_decay_sweep", trainer],
                 "regularization_weight_decay_sweep", name="compare_l2_and_weight_decay"),
            Node(figures.weight_decay_figure, "regularization_weight_decay_sweep",
                 "regularization_plot_l2_vs_weight_decay", name="plot_l2_vs_weight_decay"),
            # 2. k-fold cross-validation chooses the regularisation strength
            Node(nodes.cross_validate, [splits, base, "params:regularization.cross_validation", trainer],
                 ["regularization_cv_folds", "regularization_cv_summary", "regularization_cv_metrics"],
                 name="cross_validate"),
            Node(figures.fold_scores_figure, ["regularization_cv_folds", "regularization_cv_summary"],
                 "regularization_plot_fold_scores", name="plot_fold_scores"),
            # 3. ensembles
            Node(nodes.bag_networks, [splits, base, "params:regularization.bagging", trainer],
                 "regularization_bagging", name="bag_networks"),
            Node(nodes.boost_networks, [splits, base, "params:regularization.boosting", trainer],
                 "regularization_boosting", name="boost_networks"),
            Node(nodes.gradient_boosting_reference, [splits, "params:regularization.gradient_boosting"],
                 "regularization_gradient_boosting", name="gradient_boosting_reference"),
            Node(nodes.summarize_ensembles,
                 ["regularization_bagging", "regularization_boosting", "regularization_gradient_boosting"],
                 ["regularization_ensembles", "regularization_ensemble_metrics"], name="summarize_ensembles"),
            Node(figures.ensemble_figure, "regularization_ensembles", "regularization_plot_ensemble_size",
                 name="plot_ensemble_size"),
        ]
    )
