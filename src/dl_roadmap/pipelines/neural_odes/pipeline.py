"""neural_odes: MNIST -> ODE-Nets (adaptive dopri5 with the adjoint, fixed-step RK4) and a
ResNet of the same layers -> accuracy, parameters and function evaluations; the memory of
the adjoint against backprop through the solver; continuous depth (a weight-tied ResNet is
Euler's method). Then the shared stages: tune (solver tolerance and learning rate) and
explain the ODE-Net classifier. The continuous normalizing flow and the latent ODE are the
pipeline neural_odes_applications."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.image.tasks import classification_task
from dl_roadmap.pipelines.neural_odes import figures, nodes
from dl_roadmap.pipelines.neural_odes.models import model_from_config

AREA = "neural_odes"

# An image classifier built by model_from_config, trained with the classification step,
# scored by accuracy: what the shared stages need to rebuild, train and score the ODE-Net.
TASK = classification_task(model_from_config)


def create_pipeline(**kwargs) -> Pipeline:
    return (
        area_pipeline()
        + tune_pipeline(TASK, area=AREA, data=f"{AREA}_tuning_splits", config=f"params:{AREA}.tuning")
        + explain_pipeline(TASK, area=AREA, model=f"{AREA}_model", data=f"{AREA}_splits")
    )


def area_pipeline() -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.ingest, ["mnist_raw", f"{p}.data"], [f"{AREA}_splits", f"{AREA}_ingest_summary"], name="ingest"),
            Node(nodes.tuning_splits, [f"{AREA}_splits", f"{p}.tuning_train_limit"], f"{AREA}_tuning_splits",
                 name="tuning_splits"),
            Node(nodes.train_classifiers, [f"{AREA}_splits", f"{p}.models", "params:trainer"],
                 [f"{AREA}_results", f"{AREA}_histories", f"{AREA}_nfe", f"{AREA}_model"], name="train_classifiers"),
            Node(nodes.paper_width_parameters, [f"{p}.parameter_counts.widths", f"{p}.parameter_counts.blocks"],
                 f"{AREA}_parameter_counts", name="parameter_counts"),
            Node(nodes.measure_memory, f"{p}.memory", f"{AREA}_memory", name="measure_memory"),
            Node(nodes.continuous_depth, [f"{AREA}_model", f"{AREA}_splits", f"{p}.depth"], f"{AREA}_depth",
                 name="continuous_depth"),
            Node(figures.curves_figure, f"{AREA}_histories", f"{AREA}_plot_training_curves", name="plot_training_curves"),
            Node(figures.nfe_figure, f"{AREA}_nfe", f"{AREA}_plot_nfe", name="plot_nfe"),
            Node(figures.memory_figure, f"{AREA}_memory", f"{AREA}_plot_memory", name="plot_memory"),
            Node(figures.depth_figure, f"{AREA}_depth", f"{AREA}_plot_depth", name="plot_depth"),
            Node(nodes.summary_metrics, [f"{AREA}_results", f"{AREA}_memory", f"{AREA}_depth"], f"{AREA}_metrics",
                 name="summary_metrics"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
