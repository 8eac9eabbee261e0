"""deep_rl: DQN and PPO on CartPole-v1 from their equations (rl/dqn.py, rl/ppo.py), beside
Stable-Baselines3 with the RL Zoo's tuned settings; the return curves on one plot, seconds
per 10k env steps, both policies loaded back as MLflow models and played, GIFs; then the
shared stages on PPO: tune (learning rate, clip range, entropy coefficient), compress
(int8) and explain (which observation drives push-left against push-right)."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.compress import compress_pipeline
from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.pipelines.deep_rl import nodes
from dl_roadmap.pipelines.deep_rl.stages import TASK

AREA = "deep_rl"


def create_pipeline(**kwargs) -> Pipeline:
    return (
        area_pipeline()
        + tune_pipeline(TASK, area=AREA, data=f"{AREA}_states", config=f"params:{AREA}.tuning")
        + compress_pipeline(TASK, area=AREA, model=f"{AREA}_ppo_policy", config=f"params:{AREA}.tuning",
                            data=f"{AREA}_states", variants=["dynamic_int8"])
        + explain_pipeline(TASK, area=AREA, model=f"{AREA}_ppo_policy", data=f"{AREA}_states")
        + Pipeline([Node(nodes.explain_steps_figure, [f"{AREA}.explain.attributions", f"{AREA}_states"],
                         f"{AREA}_plot_explain_steps", name="plot_explain_steps")])
    )


def area_pipeline() -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.train_dqn_agent, [f"{p}.env", f"{p}.dqn", f"{p}.evaluation", "params:trainer"],
                 [f"{AREA}_dqn_policy", f"{AREA}_dqn_history"], name="train_dqn"),
            Node(nodes.train_ppo_agent, [f"{p}.env", f"{p}.ppo", f"{p}.evaluation", "params:trainer"],
                 [f"{AREA}_ppo_policy", f"{AREA}_ppo_history"], name="train_ppo"),
            Node(nodes.train_sb3_agents, [f"{p}.env", f"{p}.sb3", f"{p}.evaluation"], f"{AREA}_sb3_curves",
                 name="train_sb3"),
            Node(nodes.curves, [f"{AREA}_dqn_history", f"{AREA}_ppo_history", f"{AREA}_sb3_curves", f"{p}.env"],
                 f"{AREA}_curves", name="curves"),
            Node(nodes.comparison, [f"{AREA}_curves", f"{p}.evaluation.solved_return"], f"{AREA}_comparison",
                 name="comparison"),
            Node(nodes.curves_figure, [f"{AREA}_curves", f"{p}.evaluation.solved_return"],
                 f"{AREA}_plot_return_curves", name="plot_return_curves"),
            Node(nodes.mlflow_check, [f"{AREA}_dqn_policy", f"{AREA}_ppo_policy", f"{p}.env", f"{p}.mlflow_check"],
                 f"{AREA}_mlflow_check", name="mlflow_check"),
            Node(nodes.policy_gif, [f"{AREA}_dqn_policy", f"{p}.env", f"{p}.gif"], f"{AREA}_dqn_gif", name="dqn_gif"),
            Node(nodes.policy_gif, [f"{AREA}_ppo_policy", f"{p}.env", f"{p}.gif"], f"{AREA}_ppo_gif", name="ppo_gif"),
            Node(nodes.collect_states, [f"{AREA}_ppo_policy", f"{p}.env", f"{p}.states"], f"{AREA}_states",
                 name="collect_states"),
            Node(nodes.log_policy, f"{AREA}_dqn_policy", f"{AREA}_dqn_policy_mlflow", name="log_dqn_policy"),
            Node(nodes.log_policy, f"{AREA}_ppo_policy", f"{AREA}_ppo_policy_mlflow", name="log_ppo_policy"),
            Node(nodes.summary_metrics, [f"{AREA}_comparison", f"{AREA}_mlflow_check"], f"{AREA}_metrics",
                 name="summary_metrics"),
        ]
    )
