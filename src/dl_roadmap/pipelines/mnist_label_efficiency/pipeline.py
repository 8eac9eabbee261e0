"""mnist_label_efficiency: accuracy against labels per class, pretrained vs from scratch.

Reuses mnist_autoencoder's trained autoencoder (a catalog dataset: run that pipeline
first) on the same split of the images, made by the image library's ``split_mnist``.
"""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.image.data import split_mnist
from dl_roadmap.pipelines.mnist_label_efficiency import nodes

AREA = "mnist_label_efficiency"


def create_pipeline(**kwargs) -> Pipeline:
    splits = f"{AREA}_splits"
    return Pipeline(
        [
            Node(split_mnist, ["mnist_raw", f"params:{AREA}.data"], [splits, f"{AREA}_ingest_summary"],
                 name="split_mnist"),
            Node(nodes.label_efficiency_sweep, ["autoencoder", splits, f"params:{AREA}.sweep", "params:trainer"],
                 "label_efficiency_results", name="label_efficiency_sweep"),
            Node(nodes.label_efficiency_table, "label_efficiency_results",
                 ["label_efficiency_table", "label_efficiency_metrics"], name="label_efficiency_table"),
            Node(nodes.label_efficiency_figure, "label_efficiency_results", "label_efficiency_plot",
                 name="plot_label_efficiency"),
        ]
    )
