"""efficient_architectures: the published networks counted at ImageNet size; six small networks
trained on Fashion-MNIST and compared on accuracy, parameters, MACs and latency; MobileNet V2's
int8 weights per tensor against per channel; then the shared compress and explain stages on
the trained MobileNet V2."""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.compress import compress_pipeline
from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.image.tasks import classification_task
from dl_roadmap.pipelines.efficient_architectures import figures, nodes
from dl_roadmap.pipelines.efficient_architectures.models import model_from_config

AREA = "efficient_architectures"
# The small networks trained side by side (one block each under <area>.family).
MEMBERS = ("plain_cnn", "mobilenet_v1", "mobilenet_v2", "efficientnet_b0", "squeezenet_1_0", "squeezenet_1_1")
COMPRESSED = "mobilenet_v2"
# The shared compress stage's variants run on MobileNet V2 (its static int8 is per channel).
VARIANTS = ("dynamic_int8", "static_int8", "qat_int8", "pruned_unstructured")

TASK = classification_task(model_from_config)


def _net(member: str, what: str) -> str:
    return f"{AREA}_net_{member}_{what}"


def _bound(function, **bound):
    """``function`` with ``bound`` arguments, keeping its name and docstring for Kedro."""
    return update_wrapper(partial(function, **bound), function)


def create_pipeline(**kwargs) -> Pipeline:
    model = _net(COMPRESSED, "model")
    return (
        area_pipeline()
        + compress_pipeline(TASK, area=AREA, model=model, config=f"params:{AREA}.family.{COMPRESSED}",
                            data=f"{AREA}_splits", variants=VARIANTS)
        + explain_pipeline(TASK, area=AREA, model=model, data=f"{AREA}_splits")
    )


def area_pipeline() -> Pipeline:
    training = [
        Node(_bound(nodes.train_member, name=member),
             [f"{AREA}_splits", f"params:{AREA}.family.{member}", "params:trainer", f"params:{AREA}.latency",
              f"params:{AREA}.train_threads"],
             [_net(member, "model"), _net(member, "history"), _net(member, "row")], name=f"train_{member}")
        for member in MEMBERS
    ]
    return Pipeline(
        [
            Node(nodes.ingest, ["fashion_mnist_raw", f"params:{AREA}.data"], [f"{AREA}_splits", f"{AREA}_ingest_summary"],
                 name="ingest"),
            Node(nodes.imagenet_table, None, [f"{AREA}_imagenet", f"{AREA}_imagenet_metrics"], name="imagenet_counts"),
            Node(figures.imagenet_figure, f"{AREA}_imagenet", f"{AREA}_plot_imagenet_counts", name="plot_imagenet"),
            *training,
            Node(nodes.family_table, [_net(m, "row") for m in MEMBERS], [f"{AREA}_family", f"{AREA}_family_metrics"],
                 name="family_table"),
            Node(figures.pareto_figure, f"{AREA}_family", f"{AREA}_plot_pareto", name="plot_pareto"),
            Node(figures.curves_figure, {m: _net(m, "history") for m in MEMBERS}, f"{AREA}_plot_training_curves",
                 name="plot_training_curves"),
            Node(nodes.quantization_schemes, [_net(COMPRESSED, "model"), f"{AREA}_splits", f"params:{AREA}.quantization"],
                 [f"{AREA}_quantization", f"{AREA}_quantization_layers", f"{AREA}_quantization_metrics"],
                 name="quantize_per_tensor_vs_per_channel"),
            Node(figures.quantization_figure, [f"{AREA}_quantization", f"{AREA}_quantization_layers"],
                 f"{AREA}_plot_quantization", name="plot_quantization"),
            Node(nodes.log_model, _net(COMPRESSED, "model"), f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
