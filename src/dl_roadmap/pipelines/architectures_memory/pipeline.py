"""architectures_memory: the adding problem at growing lengths for RNN, LSTM and GRU."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.architectures_memory import nodes

AREA = "architectures_memory"


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.memory_study, [f"params:{AREA}", "params:trainer"], [f"{AREA}_results", f"{AREA}_model"],
                 name="memory_study"),
            Node(nodes.memory_figure, [f"{AREA}_results", f"params:{AREA}.solved_mse"], f"{AREA}_plot_mse_by_length",
                 name="plot_mse_by_length"),
            Node(nodes.memory_metrics, f"{AREA}_results", f"{AREA}_metrics", name="memory_metrics"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
