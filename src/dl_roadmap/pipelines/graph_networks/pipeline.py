"""graph_networks: GCN and GAT from their equations, raced and checked against PyG, the
Planetoid benchmark on Cora and CiteSeer over seeds, over-smoothing against depth, the
pictures (karate club, embeddings, attention), then the shared tune and explain stages."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.pipelines.graph_networks import figures, nodes
from dl_roadmap.pipelines.graph_networks.stages import TASK

AREA = "graph_networks"


def create_pipeline(**kwargs) -> Pipeline:
    return (
        area_pipeline()
        + tune_pipeline(TASK, area=AREA, data=f"{AREA}_graphs", config=f"params:{AREA}.tuning")
        + explain_pipeline(TASK, area=AREA, model=f"{AREA}_model", data=f"{AREA}_graphs")
        + Pipeline([Node(nodes.neighbour_faithfulness, [f"{AREA}.explain.attributions", f"{AREA}_model",
                                                        f"{AREA}_graphs", f"params:{AREA}.neighbours"],
                         f"{AREA}_neighbour_faithfulness", name="neighbour_faithfulness")])
    )


def area_pipeline() -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.ingest, [f"{p}.data", "params:trainer"], [f"{AREA}_graphs", f"{AREA}_ingest_summary"],
                 name="ingest"),
            Node(nodes.race_layers, [f"{AREA}_graphs", f"{p}.race", f"{p}.benchmark"], f"{AREA}_race",
                 name="race_layers"),
            Node(figures.race_figure, f"{AREA}_race", f"{AREA}_plot_race", name="plot_race"),
            Node(nodes.karate, [f"{p}.karate", "params:trainer"], f"{AREA}_karate", name="karate_club"),
            Node(figures.karate_figure, f"{AREA}_karate", f"{AREA}_plot_karate", name="plot_karate"),
            Node(nodes.benchmark, [f"{AREA}_graphs", f"{p}.benchmark", "params:trainer"],
                 [f"{AREA}_runs", f"{AREA}_results", f"{AREA}_seed_models"], name="benchmark"),
            Node(figures.results_figure, f"{AREA}_results", f"{AREA}_plot_results", name="plot_results"),
            Node(nodes.depth_study, [f"{AREA}_graphs", f"{p}.depth", "params:trainer"], f"{AREA}_depth",
                 name="depth_study"),
            Node(figures.depth_figure, f"{AREA}_depth", f"{AREA}_plot_depth", name="plot_depth"),
            Node(nodes.embeddings, [f"{AREA}_graphs", f"{AREA}_seed_models", f"{p}.embeddings"],
                 f"{AREA}_embeddings", name="embeddings"),
            Node(figures.embeddings_figure, f"{AREA}_embeddings", f"{AREA}_plot_embeddings", name="plot_embeddings"),
            Node(nodes.attention, [f"{AREA}_graphs", f"{AREA}_seed_models", f"{p}.attention"], f"{AREA}_attention",
                 name="attention"),
            Node(figures.attention_figure, f"{AREA}_attention", f"{AREA}_plot_attention", name="plot_attention"),
            Node(nodes.pick_model, [f"{AREA}_seed_models", f"{p}.model"], f"{AREA}_model", name="pick_model"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
            Node(nodes.summary_metrics, [f"{AREA}_results", f"{AREA}_depth", f"{AREA}_race"], f"{AREA}_metrics",
                 name="summary_metrics"),
        ]
    )
