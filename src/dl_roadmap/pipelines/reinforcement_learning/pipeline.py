"""reinforcement_learning: dynamic programming as the exact reference (FrozenLake, CliffWalking,
Taxi), Q-learning / SARSA / Expected SARSA against it and on Sutton & Barto's cliff, REINFORCE
(three estimators) and A2C on CartPole with the variance of their gradients; every policy to
MLflow, GIFs of the agents, and the shared explain stage on the CartPole policy."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.pipelines.reinforcement_learning import figures, nodes
from dl_roadmap.pipelines.reinforcement_learning.stages import TASK

AREA = "reinforcement_learning"


def create_pipeline(**kwargs) -> Pipeline:
    return area_pipeline() + explain_pipeline(TASK, area=AREA, model=f"{AREA}_cartpole_policy",
                                              data=f"{AREA}_cartpole_observations")


def area_pipeline() -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.solve_dp, f"{p}.dp", [f"{AREA}_dp", f"{AREA}_dp_solutions"], name="solve_dp"),
            Node(figures.dp_figure, f"{AREA}_dp_solutions", f"{AREA}_plot_dp_values", name="plot_dp_values"),
            Node(nodes.td_frozenlake, [f"{p}.frozenlake", f"{AREA}_dp_solutions"],
                 [f"{AREA}_frozenlake_curves", f"{AREA}_frozenlake", f"{AREA}_frozenlake_q"], name="td_frozenlake"),
            Node(figures.frozenlake_figure, [f"{AREA}_frozenlake_curves", f"{AREA}_frozenlake"],
                 f"{AREA}_plot_frozenlake", name="plot_frozenlake"),
            Node(nodes.td_cliff, [f"{p}.cliff", f"{AREA}_dp_solutions"],
                 [f"{AREA}_cliff_rewards", f"{AREA}_cliff", f"{AREA}_cliff_q"], name="td_cliff"),
            Node(figures.cliff_figure, [f"{AREA}_cliff_rewards", f"{AREA}_cliff", f"{p}.cliff.smoothing"],
                 f"{AREA}_plot_cliff", name="plot_cliff"),
            Node(nodes.train_policy_gradients, [f"{p}.policy_gradient", "params:trainer"],
                 [f"{AREA}_pg_curves", f"{AREA}_pg", f"{AREA}_pg_agents", f"{AREA}_pg_snapshot"],
                 name="train_policy_gradients"),
            Node(figures.pg_figure, [f"{AREA}_pg_curves", f"{AREA}_pg", f"{p}.policy_gradient.solved_at"],
                 f"{AREA}_plot_policy_gradients", name="plot_policy_gradients"),
            Node(nodes.gradient_variance, [f"{AREA}_pg_snapshot", f"{p}.policy_gradient"], f"{AREA}_gradient_variance",
                 name="gradient_variance"),
            Node(figures.variance_figure, f"{AREA}_gradient_variance", f"{AREA}_plot_gradient_variance",
                 name="plot_gradient_variance"),
            Node(nodes.best_agent, [f"{AREA}_pg", f"{AREA}_pg_agents"],
                 [f"{AREA}_cartpole_policy", f"{AREA}_cartpole_policy_name"], name="best_agent"),
            Node(nodes.policy_models, [f"{p}.models", f"{AREA}_frozenlake_q", f"{AREA}_cliff_q", f"{AREA}_pg_agents"],
                 f"{AREA}_policy_models", name="policy_models"),
            Node(nodes.log_policy_models, f"{AREA}_policy_models", f"{AREA}_logged_policies", name="log_policy_models"),
            Node(nodes.agent_gifs, [f"{p}.models", f"{AREA}_cartpole_policy", f"{AREA}_dp_solutions",
                                    f"{AREA}_frozenlake_q", f"{AREA}_cliff_q"],
                 [f"{AREA}_gif_cartpole", f"{AREA}_gif_frozenlake", f"{AREA}_gif_cliff_sarsa",
                  f"{AREA}_gif_cliff_q_learning"], name="agent_gifs"),
            Node(nodes.explain_data, [f"{AREA}_cartpole_policy", f"{p}.policy_gradient"],
                 f"{AREA}_cartpole_observations", name="explain_data"),
            Node(nodes.summary_metrics, [f"{AREA}_dp", f"{AREA}_frozenlake", f"{AREA}_cliff", f"{AREA}_pg",
                                         f"{AREA}_gradient_variance"], f"{AREA}_metrics", name="summary_metrics"),
        ]
    )
