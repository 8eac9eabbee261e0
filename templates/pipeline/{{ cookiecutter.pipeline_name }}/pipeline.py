"""{{ cookiecutter.pipeline_name }}: images -> the area's model trained -> scores and plots; then the
shared stages: tune (Optuna over the `tuning` block), compress and explain the tuned model."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.compress import compress_pipeline
from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.image.tasks import classification_task
from dl_roadmap.pipelines.{{ cookiecutter.pipeline_name }} import nodes
from dl_roadmap.pipelines.{{ cookiecutter.pipeline_name }}.models import model_from_config

AREA = "{{ cookiecutter.pipeline_name }}"

# What the shared stages need to rebuild, train and score the model: an image classifier
# built by model_from_config, trained with the classification step, scored by accuracy.
TASK = classification_task(model_from_config)


def create_pipeline(**kwargs) -> Pipeline:
    return (
        area_pipeline()
        + tune_pipeline(TASK, area=AREA, data=f"{AREA}_splits", config=f"params:{AREA}.tuning")
        + compress_pipeline(TASK, area=AREA, model=f"{AREA}.tune.model", config=f"{AREA}.tune.best_config",
                            data=f"{AREA}_splits")
        + explain_pipeline(TASK, area=AREA, model=f"{AREA}.tune.model", data=f"{AREA}_splits")
    )


def area_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(nodes.ingest, ["fashion_mnist_raw", f"params:{AREA}.data"], [f"{AREA}_splits", f"{AREA}_ingest_summary"],
                 name="ingest"),
            Node(nodes.train_model, [f"{AREA}_splits", f"params:{AREA}.train", "params:trainer"],
                 [f"{AREA}_model", f"{AREA}_history"], name="train_model"),
            Node(nodes.evaluate_model, [f"{AREA}_model", f"{AREA}_splits"],
                 [f"{AREA}_results", f"{AREA}_metrics", f"{AREA}_test_predictions"], name="evaluate_model"),
            Node(nodes.curves_figure, f"{AREA}_history", f"{AREA}_plot_training_curves", name="plot_training_curves"),
            Node(nodes.confusion_figure, [f"{AREA}_test_predictions", f"{AREA}_splits", f"{AREA}_ingest_summary"],
                 f"{AREA}_plot_confusion_matrix", name="plot_confusion_matrix"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
