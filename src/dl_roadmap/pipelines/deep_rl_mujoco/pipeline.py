"""deep_rl_mujoco: robotics-style continuous control. PPO with a Gaussian policy (rl/ppo.py)
learns to balance MuJoCo's InvertedPendulum-v5 (maximum return 1,000); the learning curve,
the policy loaded back as an MLflow model and played, and a rendered GIF. The shared
stages run on CartPole in `deep_rl` (README)."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.deep_rl_mujoco import nodes

AREA = "deep_rl_mujoco"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.train_agent, [f"{p}.env", f"{p}.ppo", f"{p}.evaluation", "params:trainer"],
                 [f"{AREA}_policy", f"{AREA}_history", f"{AREA}_summary"], name="train_agent"),
            Node(nodes.curve_figure, [f"{AREA}_history", f"{AREA}_summary"], f"{AREA}_plot_learning_curve",
                 name="plot_learning_curve"),
            Node(nodes.mlflow_check, [f"{AREA}_policy", f"{p}.env", f"{p}.mlflow_check"], f"{AREA}_mlflow_check",
                 name="mlflow_check"),
            Node(nodes.policy_gif, [f"{AREA}_policy", f"{p}.env", f"{p}.gif"], f"{AREA}_gif", name="policy_gif"),
            Node(nodes.log_policy, [f"{AREA}_policy", f"{p}.env"], f"{AREA}_policy_mlflow", name="log_policy"),
            Node(nodes.summary_metrics, [f"{AREA}_summary", f"{AREA}_mlflow_check"], f"{AREA}_metrics",
                 name="summary_metrics"),
        ]
    )
