"""vision_transformers: MNIST -> a ViT and a CNN of the same size trained on 1k, 10k and all
images (data hunger) -> table, plot, attention maps and rollout of the ViT; then the shared
stages on a ViT: tune (Optuna over `tuning`), compress and explain the tuned model."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.compress import compress_pipeline
from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.image.tasks import classification_task
from dl_roadmap.image.vit import vit_from_config
from dl_roadmap.pipelines.vision_transformers import nodes

AREA = "vision_transformers"

# What the shared stages need to rebuild, train and score a ViT: an image classifier built
# by vit_from_config, trained with the classification step, scored by accuracy.
TASK = classification_task(vit_from_config)
# Weight-only int8, magnitude pruning and a distilled smaller ViT. Static int8 and QAT need
# quantisation stubs around the attention's matrix products, and channel pruning would cut
# the heads' shared width: neither fits this model as the stage builds them.
COMPRESS_VARIANTS = ("dynamic_int8", "pruned_unstructured", "distilled")


def create_pipeline(**kwargs) -> Pipeline:
    data = f"{AREA}_stage_splits"
    return (
        area_pipeline()
        + tune_pipeline(TASK, area=AREA, data=data, config=f"params:{AREA}.tuning")
        + compress_pipeline(TASK, area=AREA, model=f"{AREA}.tune.model", config=f"{AREA}.tune.best_config",
                            data=data, variants=COMPRESS_VARIANTS)
        + explain_pipeline(TASK, area=AREA, model=f"{AREA}.tune.model", data=data)
    )


def area_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(nodes.ingest, ["mnist_raw", f"params:{AREA}.data", f"params:{AREA}.stages_data"],
                 [f"{AREA}_splits", f"{AREA}_stage_splits", f"{AREA}_ingest_summary"], name="ingest"),
            Node(nodes.data_hunger,
                 [f"{AREA}_splits", f"params:{AREA}.vit", f"params:{AREA}.cnn", f"params:{AREA}.hunger",
                  "params:trainer"],
                 [f"{AREA}_results", f"{AREA}_histories", f"{AREA}_model", f"{AREA}_metrics"], name="data_hunger"),
            Node(nodes.hunger_figure, f"{AREA}_results", f"{AREA}_plot_data_hunger", name="plot_data_hunger"),
            Node(nodes.attention_figures, [f"{AREA}_model", f"{AREA}_splits", f"params:{AREA}.attention"],
                 [f"{AREA}_plot_attention", f"{AREA}_plot_rollout"], name="plot_attention"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
