"""spiking_coding: rate and latency coding of MNIST and Fashion-MNIST into spike trains,
and a fully connected SNN trained through time on each (the LIF neuron, the surrogate
gradient and the codings are in image/snn.py)."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.spiking_coding import nodes

AREA = "spiking_coding"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.ingest, ["mnist_raw", "fashion_mnist_raw", f"{p}.data"], f"{AREA}_splits", name="ingest"),
            Node(nodes.coding_figure, [f"{AREA}_splits", p], f"{AREA}_plot_spike_trains", name="plot_spike_trains"),
            Node(nodes.coding_study, [f"{AREA}_splits", p, "params:trainer"],
                 [f"{AREA}_results", f"{AREA}_histories"], name="coding_study"),
            Node(nodes.accuracy_figure, f"{AREA}_results", f"{AREA}_plot_accuracy", name="plot_accuracy"),
            Node(nodes.curves_figure, f"{AREA}_histories", f"{AREA}_plot_training_curves", name="plot_training_curves"),
            Node(nodes.summary_metrics, f"{AREA}_results", f"{AREA}_metrics", name="summary_metrics"),
        ]
    )
