"""self_supervised_ablations: SimCLR's ingredients one at a time on Fashion-MNIST (batch
size, temperature, projection head), each encoder probed before and after its head."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.self_supervised_ablations import nodes

AREA = "self_supervised_ablations"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.ingest, ["fashion_mnist_raw", f"{p}.data"], f"{AREA}_splits", name="ingest"),
            Node(nodes.run_ablations, [f"{AREA}_splits", p, "params:trainer"], f"{AREA}_runs", name="run_ablations"),
            Node(nodes.ablation_metrics, f"{AREA}_runs", f"{AREA}_metrics", name="ablation_metrics"),
            Node(nodes.ablation_figure, f"{AREA}_runs", f"{AREA}_plot_ablations", name="plot_ablations"),
        ]
    )
