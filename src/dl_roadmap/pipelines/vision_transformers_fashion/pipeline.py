"""vision_transformers_fashion: Fashion-MNIST -> a ViT and a CNN of the same size trained on
1k, 10k and all images (data hunger) -> table, plot, attention maps and rollout of the ViT.
The shared stages run on the MNIST ViT (pipeline vision_transformers), not here."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.vision_transformers_fashion import nodes

AREA = "vision_transformers_fashion"


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.ingest, ["fashion_mnist_raw", f"params:{AREA}.data"],
                 [f"{AREA}_splits", f"{AREA}_ingest_summary"], name="ingest"),
            Node(nodes.data_hunger,
                 [f"{AREA}_splits", f"params:{AREA}.vit", f"params:{AREA}.cnn", f"params:{AREA}.hunger",
                  "params:trainer"],
                 [f"{AREA}_results", f"{AREA}_histories", f"{AREA}_model", f"{AREA}_metrics"], name="data_hunger"),
            Node(nodes.hunger_figure, f"{AREA}_results", f"{AREA}_plot_data_hunger", name="plot_data_hunger"),
            Node(nodes.attention_figures, [f"{AREA}_model", f"{AREA}_splits", f"params:{AREA}.attention"],
                 [f"{AREA}_plot_attention", f"{AREA}_plot_rollout"], name="plot_attention"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
