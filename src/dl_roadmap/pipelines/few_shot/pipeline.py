"""few_shot: Omniglot -> ProtoNet, Matching Networks and the fine-tuning baseline trained on
one background set -> accuracy on episodes of the other set's alphabets, and Lake et al.'s
one-shot runs beside the modified Hausdorff distance -> plots and the ProtoNet embedding.
No shared stage is wired: the README says why."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.few_shot import figures, nodes

AREA = "few_shot"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.ingest, f"{p}.data", [f"{AREA}_omniglot", f"{AREA}_ingest_summary"], name="ingest"),
            Node(nodes.ingest_runs, f"{p}.one_shot_runs", f"{AREA}_lake_runs", name="ingest_runs"),
            Node(nodes.train_models, [f"{AREA}_omniglot", f"{p}.train", "params:trainer"],
                 [f"{AREA}_models", f"{AREA}_history"], name="train_models"),
            Node(nodes.evaluate, [f"{AREA}_models", f"{AREA}_omniglot", f"{p}.evaluation", f"{p}.train"],
                 f"{AREA}_results", name="evaluate"),
            Node(nodes.pick_model, f"{AREA}_models", f"{AREA}_model", name="pick_model"),
            Node(nodes.one_shot_runs, [f"{AREA}_model", f"{AREA}_lake_runs"], f"{AREA}_one_shot_runs",
                 name="one_shot_runs"),
            Node(nodes.example_episode, [f"{AREA}_model", f"{AREA}_omniglot", f"{p}.example"],
                 f"{AREA}_example_episode", name="example_episode"),
            Node(nodes.summary_metrics, [f"{AREA}_results", f"{AREA}_one_shot_runs"], f"{AREA}_metrics",
                 name="summary_metrics"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
            Node(figures.accuracy_figure, f"{AREA}_results", f"{AREA}_plot_accuracy", name="plot_accuracy"),
            Node(figures.episode_figure, f"{AREA}_example_episode", f"{AREA}_plot_example_episode",
                 name="plot_example_episode"),
            Node(figures.training_figure, f"{AREA}_history", f"{AREA}_plot_training", name="plot_training"),
            Node(figures.one_shot_figure, f"{AREA}_one_shot_runs", f"{AREA}_plot_one_shot_runs",
                 name="plot_one_shot_runs"),
        ]
    )
