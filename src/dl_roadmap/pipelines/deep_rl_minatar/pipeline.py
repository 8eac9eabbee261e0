"""deep_rl_minatar: DQN (double, dueling) plays MinAtar Breakout from its 10x10x4 grids; the
learning curve, a GIF of the trained agent drawn from the state grid and the policy as an
MLflow model. The shared stages do not run here (README: a tuning trial would be a whole
training of tens of minutes)."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.deep_rl_minatar import nodes

AREA = "deep_rl_minatar"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.train_agent, [f"{p}.env", f"{p}.dqn", f"{p}.evaluation", "params:trainer"],
                 [f"{AREA}_q_network", f"{AREA}_history", f"{AREA}_summary"], name="train_agent"),
            Node(nodes.learning_curve, [f"{AREA}_history", f"{p}.curve_window"], f"{AREA}_curve",
                 name="learning_curve"),
            Node(nodes.curve_figure, [f"{AREA}_curve", f"{AREA}_summary"], f"{AREA}_plot_learning_curve",
                 name="plot_learning_curve"),
            Node(nodes.play_gif, [f"{AREA}_q_network", f"{p}.env", f"{p}.gif"], f"{AREA}_gif", name="play_gif"),
            Node(nodes.log_policy, f"{AREA}_q_network", f"{AREA}_policy_mlflow", name="log_policy"),
            Node(nodes.summary_metrics, f"{AREA}_summary", f"{AREA}_metrics", name="summary_metrics"),
        ]
    )
