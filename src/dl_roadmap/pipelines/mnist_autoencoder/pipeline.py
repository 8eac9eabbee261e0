"""mnist_autoencoder: ingest -> autoencoder -> classifiers on its code; the fine-tuned
classifier comes from the shared tune stage (Optuna, then the final training with the best
values) -> evaluate -> serve, and the shared compress and explain stages take it from there."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.compress import compress_pipeline
from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.image.autoencoder import classifier_from_config
from dl_roadmap.image.data import split_mnist
from dl_roadmap.image.tasks import classification_task
from dl_roadmap.pipelines.mnist_autoencoder import nodes

AREA = "mnist_autoencoder"
P = f"params:{AREA}."

# What the shared stages need to rebuild, train and score the classifier (its config is
# the `mnist_autoencoder.classifier` block; the `autoencoder` dataset is the builder's base).
CLASSIFIER_TASK = classification_task(classifier_from_config)


def create_pipeline(**kwargs) -> Pipeline:
    # The classifier is the tune stage's final model: the classifier block is the starting
    # point, the best trial's values replace what the search covers, and the area's
    # evaluation, serving, compression and explanation all use that one model.
    return (
        area_pipeline()
        + tune_pipeline(
            CLASSIFIER_TASK, area=AREA, data="mnist_splits", config=P + "classifier", base="autoencoder",
            outputs={"model": "digit_classifier", "history": "classifier_history"},
        )
        + compress_pipeline(CLASSIFIER_TASK, area=AREA, model="digit_classifier", config=f"{AREA}.tune.best_config",
                            data="mnist_splits", base="autoencoder")
        + explain_pipeline(CLASSIFIER_TASK, area=AREA, model="digit_classifier", data="mnist_splits")
    )


def area_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(split_mnist, ["mnist_raw", P + "data"], ["mnist_splits", "mnist_ingest_summary"], name="split_mnist"),
            Node(
                nodes.train_autoencoder, ["mnist_splits", P + "autoencoder", "params:trainer"],
                ["autoencoder", "autoencoder_history"], name="train_autoencoder",
            ),
            Node(nodes.encode_images, ["autoencoder", "mnist_splits", "params:trainer"], "mnist_codes", name="encode_images"),
            Node(nodes.evaluate_code_classifiers, ["mnist_codes", P + "code_classifiers"], "code_classifier_metrics",
                 name="evaluate_code_classifiers"),
            Node(
                nodes.evaluate_classifier, ["digit_classifier", "mnist_splits", "params:trainer"],
                ["classifier_metrics", "classifier_per_class", "test_predictions"], name="evaluate_classifier",
            ),
            Node(
                nodes.summarize_results, ["code_classifier_metrics", "classifier_metrics", "autoencoder_history"],
                ["mnist_autoencoder_metrics", "mnist_autoencoder_results"], name="summarize_results",
            ),
            Node(nodes.confusion_figure, ["test_predictions", "mnist_splits"], f"{AREA}_plot_confusion_matrix",
                 name="plot_confusion_matrix"),
            Node(nodes.mistakes_figure, ["test_predictions", "mnist_splits", P + "report"], f"{AREA}_plot_mistakes",
                 name="plot_mistakes"),
            Node(
                nodes.reconstructions_figure, ["autoencoder", "mnist_splits", P + "report", P + "autoencoder"],
                f"{AREA}_plot_reconstructions", name="plot_reconstructions",
            ),
            Node(nodes.latent_space_figure, ["mnist_codes", P + "report"], f"{AREA}_plot_latent_space",
                 name="plot_latent_space"),
            Node(nodes.curves_figure, ["autoencoder_history", "classifier_history"], f"{AREA}_plot_training_curves",
                 name="plot_training_curves"),
            Node(nodes.build_serving_model, "digit_classifier", "digit_classifier_mlflow", name="log_serving_model"),
        ]
    )
