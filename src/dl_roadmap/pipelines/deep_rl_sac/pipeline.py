"""deep_rl_sac: soft actor-critic from its equations beside Stable-Baselines3's SAC on
Pendulum-v1 (same settings, budget and seeds): return curves, seconds per 1k steps, the
trained actor as an MLflow model and a GIF of it."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.deep_rl_sac import nodes

AREA = "deep_rl_sac"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.train_ours, [p, "params:trainer"], [f"{AREA}_ours_curves", f"{AREA}_ours_runs", f"{AREA}_actor"],
                 name="train_ours"),
            Node(nodes.train_sb3, [p, "params:trainer"], [f"{AREA}_sb3_curves", f"{AREA}_sb3_runs"], name="train_sb3"),
            Node(nodes.compare, [f"{AREA}_ours_runs", f"{AREA}_sb3_runs", p], [f"{AREA}_runs", f"{AREA}_results"],
                 name="compare"),
            Node(nodes.curves_figure, [f"{AREA}_ours_curves", f"{AREA}_sb3_curves", f"{AREA}_results", p],
                 f"{AREA}_plot_curves", name="plot_curves"),
            Node(nodes.policy_model, [f"{AREA}_actor", p], f"{AREA}_policy_mlflow", name="log_policy"),
            Node(nodes.pendulum_gif, [f"{AREA}_actor", p], f"{AREA}_gif_pendulum", name="pendulum_gif"),
            Node(nodes.summary_metrics, f"{AREA}_results", f"{AREA}_metrics", name="summary_metrics"),
        ]
    )
