"""vision_transformers_multimodal: MNIST digits -> captioned pairs ("a seven left of a two") ->
a CLIP-style dual encoder (ViT + text transformer, symmetric InfoNCE, learned temperature) ->
image<->text recall, zero-shot classification by prompts against a linear probe, figures."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.vision_transformers_multimodal import nodes

AREA = "vision_transformers_multimodal"


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.make_pairs, ["mnist_raw", f"params:{AREA}"], [f"{AREA}_pairs", f"{AREA}_pairs_summary"],
                 name="make_pairs"),
            Node(nodes.train_dual_encoder, [f"{AREA}_pairs", f"params:{AREA}", "params:trainer"],
                 [f"{AREA}_model", f"{AREA}_history"], name="train_dual_encoder"),
            Node(nodes.evaluate, [f"{AREA}_model", f"{AREA}_pairs", f"params:{AREA}"],
                 [f"{AREA}_results", f"{AREA}_metrics", f"{AREA}_examples"], name="evaluate"),
            Node(nodes.curves_figure, f"{AREA}_history", f"{AREA}_plot_training_curves", name="plot_training_curves"),
            Node(nodes.retrieval_figure, f"{AREA}_examples", f"{AREA}_plot_retrieval", name="plot_retrieval"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
