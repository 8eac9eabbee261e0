"""spiking_conversion: ANN-to-SNN conversion by rate (Diehl et al. 2015): a bias-free ReLU
network trained on MNIST, its weights reused by integrate-and-fire neurons, raw and with
data-based normalisation, and the accuracy against the number of time steps."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.spiking_conversion import nodes

AREA = "spiking_conversion"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.ingest, ["mnist_raw", f"{p}.data"], f"{AREA}_splits", name="ingest"),
            Node(nodes.train_ann, [f"{AREA}_splits", f"{p}.ann", "params:trainer"],
                 [f"{AREA}_ann", f"{AREA}_history"], name="train_ann"),
            Node(nodes.convert, [f"{AREA}_ann", f"{AREA}_splits", f"{p}.convert"],
                 [f"{AREA}_curves", f"{AREA}_results"], name="convert_and_simulate"),
            Node(nodes.accuracy_figure, [f"{AREA}_curves", f"{AREA}_results"], f"{AREA}_plot_accuracy_vs_steps",
                 name="plot_accuracy_vs_steps"),
            Node(nodes.summary_metrics, f"{AREA}_results", f"{AREA}_metrics", name="summary_metrics"),
        ]
    )
