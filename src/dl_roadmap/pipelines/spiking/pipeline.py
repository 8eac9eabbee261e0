"""spiking: the LIF neuron checked against snntorch, then a convolutional SNN trained
through time on MNIST (direct coding), its spike rates per layer, an energy estimate, and
the trained SNN as an MLflow model. Coding, conversion and events have their own
pipelines (spiking_coding, spiking_conversion, spiking_neuromorphic)."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.image.snn_plots import energy_figure
from dl_roadmap.pipelines.spiking import figures, nodes

AREA = "spiking"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.check_lif, f"{p}.lif_check", f"{AREA}_lif_check", name="check_lif"),
            Node(figures.membrane_figure, f"{p}.lif_check", f"{AREA}_plot_membrane", name="plot_membrane"),
            Node(nodes.ingest, ["mnist_raw", f"{p}.data"], [f"{AREA}_splits", f"{AREA}_ingest_summary"], name="ingest"),
            Node(nodes.train_snn, [f"{AREA}_splits", f"{p}.train", "params:trainer"],
                 [f"{AREA}_model", f"{AREA}_history"], name="train_conv_snn"),
            Node(nodes.evaluate_snn, [f"{AREA}_model", f"{AREA}_splits", f"{p}.evaluate"],
                 [f"{AREA}_results", f"{AREA}_energy"], name="evaluate_conv_snn"),
            Node(figures.curves_figure, f"{AREA}_history", f"{AREA}_plot_training_curves", name="plot_training_curves"),
            Node(energy_figure, f"{AREA}_energy", f"{AREA}_plot_energy", name="plot_energy"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
            Node(nodes.summary_metrics, [f"{AREA}_results", f"{AREA}_energy", f"{AREA}_lif_check"],
                 f"{AREA}_metrics", name="summary_metrics"),
        ]
    )
