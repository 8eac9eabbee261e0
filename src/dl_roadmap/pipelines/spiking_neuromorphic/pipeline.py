"""spiking_neuromorphic: moving MNIST digits seen by a simulated event camera (ON/OFF
events from log-intensity changes), a convolutional SNN trained on the events, its spike
rates per layer and an energy estimate (synaptic operations against the equivalent ANN's
multiply-adds)."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.image.snn_plots import energy_figure
from dl_roadmap.pipelines.spiking_neuromorphic import nodes

AREA = "spiking_neuromorphic"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.make_events, ["mnist_raw", f"{p}.events"], f"{AREA}_events", name="make_events"),
            Node(nodes.events_gif, [f"{AREA}_events", f"{p}.events"], f"{AREA}_events_gif", name="events_gif"),
            Node(nodes.events_figure, f"{AREA}_events", f"{AREA}_plot_events", name="plot_events"),
            Node(nodes.train_snn, [f"{AREA}_events", f"{p}.train", "params:trainer"],
                 [f"{AREA}_model", f"{AREA}_history"], name="train_event_snn"),
            Node(nodes.evaluate, [f"{AREA}_model", f"{AREA}_events", f"{p}.evaluate"],
                 [f"{AREA}_results", f"{AREA}_energy"], name="evaluate_event_snn"),
            Node(nodes.curves_figure, f"{AREA}_history", f"{AREA}_plot_training_curves", name="plot_training_curves"),
            Node(energy_figure, f"{AREA}_energy", f"{AREA}_plot_energy", name="plot_energy"),
            Node(nodes.summary_metrics, f"{AREA}_results", f"{AREA}_metrics", name="summary_metrics"),
        ]
    )
