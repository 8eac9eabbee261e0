"""self_supervised: Fashion-MNIST -> SimCLR, MoCo v2, BYOL, rotation prediction, the
autoencoder and a supervised reference, all on one encoder -> frozen-feature evaluation
(linear probe, kNN, alignment / uniformity, t-SNE) -> the SimCLR encoder fine-tuned on few
labels, explained by the shared explain stage; the encoder logged as an MLflow model."""

from copy import deepcopy
from typing import Any

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.image.autoencoder import DigitClassifier
from dl_roadmap.image.tasks import classification_task
from dl_roadmap.pipelines.self_supervised import figures, nodes

AREA = "self_supervised"
METHODS = ("simclr", "moco", "byol", "rotation", "autoencoder", "supervised")


def classifier_from_config(config: dict[str, Any], encoder: Any) -> DigitClassifier:
    """A classifier head on a copy of a pretrained encoder (the explain stage's builder)."""
    return DigitClassifier(deepcopy(encoder), **config.get("model", {}))


TASK = classification_task(classifier_from_config)


def create_pipeline(**kwargs) -> Pipeline:
    return area_pipeline() + explain_pipeline(TASK, area=AREA, model=f"{AREA}_classifier", data=f"{AREA}_splits")


def area_pipeline() -> Pipeline:
    p = f"params:{AREA}"
    pretraining = [
        Node(nodes.pretrain_method, [f"{AREA}_splits", f"{p}.methods.{method}", f"{p}.pretrain", "params:trainer"],
             [f"{AREA}_{method}_encoder", f"{AREA}_{method}_history"], name=f"pretrain_{method}")
        for method in METHODS
    ]
    collected = [x for method in METHODS for x in (f"{AREA}_{method}_encoder", f"{AREA}_{method}_history")]
    return Pipeline(
        [
            Node(nodes.ingest, ["fashion_mnist_raw", f"{p}.data"], [f"{AREA}_splits", f"{AREA}_ingest_summary"],
                 name="ingest"),
            *pretraining,
            Node(nodes.collect_encoders, [f"{p}.pretrain", *collected], [f"{AREA}_encoders", f"{AREA}_history"],
                 name="collect_encoders"),
            Node(nodes.frozen_evaluation, [f"{AREA}_encoders", f"{AREA}_splits", f"{p}.evaluation", f"{p}.pretrain.augment"],
                 [f"{AREA}_results", f"{AREA}_metrics"], name="frozen_evaluation"),
            Node(nodes.embeddings, [f"{AREA}_encoders", f"{AREA}_splits", f"{p}.tsne"], f"{AREA}_embeddings",
                 name="tsne_embeddings"),
            Node(nodes.fine_tune_classifier, [f"{AREA}_encoders", f"{AREA}_splits", f"{p}.classifier", f"{p}.pretrain",
                                              "params:trainer"],
                 [f"{AREA}_classifier", f"{AREA}_classifier_metrics"], name="fine_tune_classifier"),
            Node(nodes.encoder_for_mlflow, [f"{AREA}_encoders", f"{p}.classifier"], f"{AREA}_encoder_mlflow",
                 name="log_encoder"),
            Node(figures.loss_curves, f"{AREA}_history", f"{AREA}_plot_loss_curves", name="plot_loss_curves"),
            Node(figures.frozen_accuracy, f"{AREA}_results", f"{AREA}_plot_frozen_accuracy", name="plot_frozen_accuracy"),
            Node(figures.alignment_uniformity, f"{AREA}_results", f"{AREA}_plot_alignment_uniformity",
                 name="plot_alignment_uniformity"),
            Node(figures.tsne_maps, [f"{AREA}_embeddings", f"{AREA}_ingest_summary"], f"{AREA}_plot_tsne",
                 name="plot_tsne"),
        ]
    )
