"""few_shot_maml: Omniglot -> MAML meta-trained second-order and first-order on one
background set -> adapted to episodes of unseen alphabets -> accuracy, the inner-loop curve
and the meta-learned body. No shared stage is wired: the README says why."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.few_shot_maml import figures, nodes

AREA = "few_shot_maml"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.ingest, f"{p}.data", [f"{AREA}_omniglot", f"{AREA}_ingest_summary"], name="ingest"),
            Node(nodes.train_models, [f"{AREA}_omniglot", f"{p}.train", "params:trainer"],
                 [f"{AREA}_models", f"{AREA}_history"], name="meta_train"),
            Node(nodes.evaluate, [f"{AREA}_models", f"{AREA}_omniglot", f"{p}.evaluation", f"{p}.train"],
                 [f"{AREA}_results", f"{AREA}_inner_loop"], name="evaluate"),
            Node(nodes.summary_metrics, f"{AREA}_results", f"{AREA}_metrics", name="summary_metrics"),
            Node(nodes.log_model, f"{AREA}_models", f"{AREA}_model_mlflow", name="log_model"),
            Node(figures.accuracy_figure, f"{AREA}_results", f"{AREA}_plot_accuracy", name="plot_accuracy"),
            Node(figures.inner_loop_figure, f"{AREA}_inner_loop", f"{AREA}_plot_inner_loop", name="plot_inner_loop"),
            Node(figures.training_figure, f"{AREA}_history", f"{AREA}_plot_training", name="plot_training"),
        ]
    )
