"""architectures_recurrent: RNN, LSTM and GRU cells from their gate equations, raced
against torch's layers, then where the architectures differ: MNIST-1D (logistic, MLP, CNN,
GRU) and Fashion-MNIST read row by row (long memory has its own pipeline,
architectures_memory)."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.architectures_recurrent import data, figures, nodes

AREA = "architectures_recurrent"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.race_cells, f"{p}.race", f"{AREA}_race", name="race_cells"),
            Node(figures.race_figure, f"{AREA}_race", f"{AREA}_plot_race", name="plot_race"),
            Node(data.mnist1d, f"{p}.mnist1d.data", f"{AREA}_mnist1d_data", name="make_mnist1d"),
            Node(nodes.mnist1d_benchmark, [f"{AREA}_mnist1d_data", f"{p}.mnist1d", "params:trainer"],
                 [f"{AREA}_mnist1d_results", f"{AREA}_mnist1d_histories"], name="mnist1d_benchmark"),
            Node(figures.mnist1d_figure, f"{AREA}_mnist1d_results", f"{AREA}_plot_mnist1d", name="plot_mnist1d"),
            Node(figures.curves_figure, f"{AREA}_mnist1d_histories", f"{AREA}_plot_mnist1d_curves",
                 name="plot_mnist1d_curves"),
            Node(data.pixel_row_splits, ["fashion_mnist_raw", f"{p}.pixel_rows.data"], f"{AREA}_pixel_row_splits",
                 name="split_fashion_mnist"),
            Node(nodes.pixel_rows_study, [f"{AREA}_pixel_row_splits", f"{p}.pixel_rows", "params:trainer"],
                 [f"{AREA}_pixel_rows_results", f"{AREA}_pixel_rows_histories", f"{AREA}_model"],
                 name="pixel_rows_study"),
            Node(figures.curves_figure, f"{AREA}_pixel_rows_histories", f"{AREA}_plot_pixel_rows_curves",
                 name="plot_pixel_rows_curves"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
            Node(nodes.summary_metrics, [f"{AREA}_mnist1d_results", f"{AREA}_pixel_rows_results", f"{AREA}_race"],
                 f"{AREA}_metrics", name="summary_metrics"),
        ]
    )
