"""advanced_generative: MNIST -> RealNVP and Glow by maximum likelihood on dequantized pixels
-> test bits per dimension beside the published figures, samples on the shared yardstick at
several temperatures, both flows as MLflow generator models; RealNVP on 2-D toy densities with
its density drawn. Tune, compress and explain are not wired (README, "Stages")."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.advanced_generative import nodes

AREA = "advanced_generative"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    models = [f"{AREA}_realnvp", f"{AREA}_glow"]
    histories = [f"{AREA}_realnvp_history", f"{AREA}_glow_history"]
    return Pipeline(
        [
            Node(nodes.ingest, ["mnist_raw", f"{p}.data"], f"{AREA}_splits", name="ingest"),
            Node(nodes.fit_yardstick, [f"{AREA}_splits", "params:yardstick", "params:trainer"], f"{AREA}_yardstick",
                 name="fit_yardstick"),
            Node(nodes.train_realnvp, [f"{AREA}_splits", f"{p}.realnvp", "params:trainer"],
                 [models[0], histories[0]], name="train_realnvp"),
            Node(nodes.train_glow, [f"{AREA}_splits", f"{p}.glow", "params:trainer"],
                 [models[1], histories[1]], name="train_glow"),
            Node(nodes.evaluate_flows, [*models, *histories, f"{AREA}_splits", p], f"{AREA}_results",
                 name="evaluate_flows"),
            Node(nodes.score_flows, [*models, f"{AREA}_results", f"{AREA}_yardstick", p],
                 [f"{AREA}_yardstick_table", f"{AREA}_temperature_curve"], name="score_flows"),
            Node(nodes.train_toy_flows, [f"{p}.toy", "params:trainer"], [f"{AREA}_toy_flows", f"{AREA}_toy_results"],
                 name="train_toy_flows"),
            Node(nodes.toy_density_figure, [f"{AREA}_toy_flows", f"{p}.toy"], f"{AREA}_plot_toy_densities",
                 name="plot_toy_densities"),
            Node(nodes.samples_figure, [*models, p], f"{AREA}_plot_samples", name="plot_samples"),
            Node(nodes.curves_figure, histories, f"{AREA}_plot_training", name="plot_training"),
            Node(nodes.temperature_figure, f"{AREA}_temperature_curve", f"{AREA}_plot_temperature",
                 name="plot_temperature"),
            Node(nodes.yardstick_figure, f"{AREA}_yardstick_table", f"{AREA}_plot_yardstick", name="plot_yardstick"),
            Node(nodes.summary_metrics, [f"{AREA}_results", f"{AREA}_toy_results", f"{AREA}_yardstick_table"],
                 f"{AREA}_metrics", name="summary_metrics"),
            Node(nodes.realnvp_generator, [models[0], f"{p}.mlflow_temperature"], f"{AREA}_realnvp_mlflow",
                 name="log_realnvp"),
            Node(nodes.glow_generator, [models[1], f"{p}.mlflow_temperature"], f"{AREA}_glow_mlflow",
                 name="log_glow"),
        ]
    )
