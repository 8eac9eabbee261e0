"""mnist_label_efficiency: accuracy against labels per class, pretrained vs from scratch.

Reuses mnist_autoencoder's splits and its trained autoencoder (run that pipeline first).
"""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.mnist_autoencoder import nodes as mnist_nodes
from dl_roadmap.pipelines.mnist_label_efficiency import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(mnist_nodes.split_mnist, ["mnist_raw", "params:mnist"], ["mnist_splits", "mnist_ingest_summary"],
                 name="split_mnist"),
            Node(nodes.label_efficiency_sweep, ["autoencoder", "mnist_splits", "params:label_efficiency", "params:trainer"],
                 "label_efficiency_results", name="label_efficiency_sweep"),
            Node(nodes.label_efficiency_table, "label_efficiency_results",
                 ["label_efficiency_table", "label_efficiency_metrics"], name="label_efficiency_table"),
            Node(nodes.label_efficiency_figure, "label_efficiency_results", "label_efficiency_plot",
                 name="plot_label_efficiency"),
        ]
    )
