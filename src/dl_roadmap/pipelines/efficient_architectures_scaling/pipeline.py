"""efficient_architectures_scaling: Fashion-MNIST -> a small EfficientNet and four scaled
copies of it at equal multiply-adds (compound; depth, width or resolution alone) -> trained
with one recipe -> accuracy against cost."""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from dl_roadmap.image.data import split_mnist
from dl_roadmap.pipelines.efficient_architectures_scaling import nodes

AREA = "efficient_architectures_scaling"
VARIANTS = ("base", "compound", "depth only", "width only", "resolution only")


def _key(name: str) -> str:
    return name.replace(" ", "_")


def create_pipeline(**kwargs) -> Pipeline:
    training = [
        Node(update_wrapper(partial(nodes.train_variant, name=name), nodes.train_variant),
             [f"{AREA}_splits", f"{AREA}_plan", f"params:{AREA}.base", "params:trainer", f"params:{AREA}.train_threads"],
             [f"{AREA}_{_key(name)}_model", f"{AREA}_{_key(name)}_row"], name=f"train_{_key(name)}")
        for name in VARIANTS
    ]
    return Pipeline(
        [
            Node(split_mnist, ["fashion_mnist_raw", f"params:{AREA}.data"], [f"{AREA}_splits", f"{AREA}_ingest_summary"],
                 name="ingest"),
            Node(nodes.plan, [f"params:{AREA}.base", f"params:{AREA}.scaling"], f"{AREA}_plan", name="plan"),
            *training,
            Node(nodes.results, [f"{AREA}_{_key(name)}_row" for name in VARIANTS], [f"{AREA}_results", f"{AREA}_metrics"],
                 name="results"),
            Node(nodes.scaling_figure, f"{AREA}_results", f"{AREA}_plot_accuracy_vs_macs", name="plot_scaling"),
            Node(nodes.log_model, f"{AREA}_compound_model", f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
