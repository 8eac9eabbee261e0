"""architectures: Fashion-MNIST -> LeNet-5 (as published) and a small modern CNN (batch
norm, augmentation) -> scores, filters, feature maps and receptive fields; the modern CNN is
the shared stages' model: tune (Optuna over `tuning`; its final training is the modern CNN
of every figure), then compress and explain it."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.compress import compress_pipeline
from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.image.tasks import classification_task
from dl_roadmap.pipelines.architectures import nodes
from dl_roadmap.pipelines.architectures.models import fashion_step_for, model_from_config

AREA = "architectures"
MODERN = f"{AREA}.tune.model"  # the modern CNN: the tune stage's final training

# The modern CNN as the shared stages see it: the library's SmallCNN from `model`, trained
# with the flip + affine classification step, scored by accuracy.
TASK = classification_task(model_from_config, make_step=fashion_step_for)
# Variants that retrain the whole network (student, distilled) are left out: their budget
# is that of the modern CNN itself; the others fine-tune for a few hundred batches.
VARIANTS = ("dynamic_int8", "static_int8", "qat_int8", "pruned_unstructured", "pruned_structured")


def create_pipeline(**kwargs) -> Pipeline:
    return (
        area_pipeline()
        + tune_pipeline(TASK, area=AREA, data=f"{AREA}_splits", config=f"params:{AREA}.tuning")
        + compress_pipeline(TASK, area=AREA, model=MODERN, config=f"{AREA}.tune.best_config",
                            data=f"{AREA}_splits", variants=VARIANTS)
        + explain_pipeline(TASK, area=AREA, model=MODERN, data=f"{AREA}_splits")
    )


def area_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(nodes.ingest, ["fashion_mnist_raw", f"params:{AREA}.data"], [f"{AREA}_splits", f"{AREA}_ingest_summary"],
                 name="ingest"),
            Node(nodes.train_lenet, [f"{AREA}_splits", f"params:{AREA}.lenet", "params:trainer"],
                 [f"{AREA}_lenet", f"{AREA}_lenet_history"], name="train_lenet"),
            Node(nodes.evaluate, [f"{AREA}_lenet", MODERN, f"{AREA}_splits"],
                 [f"{AREA}_results", f"{AREA}_metrics", f"{AREA}_test_predictions"], name="evaluate"),
            Node(nodes.curves_figure, [f"{AREA}_lenet_history", f"{AREA}.tune.history"],
                 f"{AREA}_plot_training_curves", name="plot_training_curves"),
            Node(nodes.confusion_figure, [f"{AREA}_test_predictions", f"{AREA}_splits", f"{AREA}_ingest_summary"],
                 f"{AREA}_plot_confusion_matrix", name="plot_confusion_matrix"),
            Node(nodes.filters_figure, [f"{AREA}_lenet", MODERN], f"{AREA}_plot_first_layer_filters",
                 name="plot_first_layer_filters"),
            Node(nodes.feature_maps_figure, [f"{AREA}_lenet", MODERN, f"{AREA}_splits", f"{AREA}_ingest_summary"],
                 f"{AREA}_plot_feature_maps", name="plot_feature_maps"),
            Node(nodes.receptive_fields, [f"{AREA}_lenet", MODERN, f"{AREA}_splits"],
                 [f"{AREA}_receptive_fields", f"{AREA}_plot_receptive_fields"], name="receptive_fields"),
            Node(nodes.log_model, MODERN, f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
