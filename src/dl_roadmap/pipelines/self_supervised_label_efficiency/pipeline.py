"""self_supervised_label_efficiency: the encoders of the latest self_supervised run, each
fine-tuned with 10, 100, 1,000 and all labels per class against the same encoder from
scratch, with and without augmentation. Run `kedro run --pipeline=self_supervised` first."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.self_supervised_label_efficiency import nodes

AREA = "self_supervised_label_efficiency"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.ingest, ["fashion_mnist_raw", f"{p}.data"], f"{AREA}_splits", name="ingest"),
            Node(nodes.sweep, ["self_supervised_encoders", f"{AREA}_splits", f"{p}.sweep", f"{p}.encoder",
                               "params:trainer"], f"{AREA}_runs", name="fine_tune_sweep"),
            Node(nodes.summary_table, f"{AREA}_runs", [f"{AREA}_table", f"{AREA}_metrics"], name="summary_table"),
            Node(nodes.curves_figure, f"{AREA}_table", f"{AREA}_plot_label_efficiency", name="plot_label_efficiency"),
        ]
    )
