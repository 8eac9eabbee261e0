"""capsule_networks_claims: MNIST -> CapsNets with 1 and 3 routing iterations and a CNN of
the same parameter count, one budget each -> accuracy on clean, shifted and affNIST-style
test images, and the coupling coefficients routing produces."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.image.data import split_mnist
from dl_roadmap.pipelines.capsule_networks_claims import nodes

AREA = "capsule_networks_claims"


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(split_mnist, ["mnist_raw", f"params:{AREA}.data"], [f"{AREA}_splits", f"{AREA}_ingest_summary"],
                 name="ingest"),
            Node(nodes.train_capsnets, [f"{AREA}_splits", f"params:{AREA}.capsnet", f"params:{AREA}.routing_iterations",
                                        "params:trainer"], [f"{AREA}_capsnets", f"{AREA}_capsnet_history"],
                 name="train_capsnets"),
            Node(nodes.train_cnn, [f"{AREA}_splits", f"params:{AREA}.cnn", f"{AREA}_capsnets", "params:trainer"],
                 [f"{AREA}_cnn", f"{AREA}_cnn_history"], name="train_cnn"),
            Node(nodes.compare, [f"{AREA}_capsnets", f"{AREA}_cnn", f"{AREA}_splits", f"params:{AREA}.affine"],
                 [f"{AREA}_results", f"{AREA}_metrics"], name="compare"),
            Node(nodes.routing_statistics, [f"{AREA}_capsnets", f"{AREA}_splits", f"params:{AREA}.routing_images"],
                 f"{AREA}_routing", name="routing_statistics"),
            Node(nodes.comparison_figure, f"{AREA}_results", f"{AREA}_plot_accuracy", name="plot_accuracy"),
            Node(nodes.curves_figure, [f"{AREA}_capsnet_history", f"{AREA}_cnn_history"],
                 f"{AREA}_plot_training_curves", name="plot_training_curves"),
            Node(nodes.log_model, f"{AREA}_cnn", f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
