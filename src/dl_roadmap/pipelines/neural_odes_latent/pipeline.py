"""neural_odes_latent: generated spirals, irregularly observed -> a latent ODE (ELBO) and a
time-gap RNN -> interpolation and extrapolation RMSE, plots, the latent ODE as an MLflow
model (Chen et al. 2018, Section 5.1). Tune, compress and explain do not apply (README)."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.neural_odes_latent import nodes

AREA = "neural_odes_latent"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.spirals, f"{p}.spirals", f"{AREA}_spirals", name="make_spirals"),
            Node(nodes.train_latent_ode, [f"{AREA}_spirals", f"{p}.latent_ode", f"{p}.spirals", "params:trainer"],
                 [f"{AREA}_model", f"{AREA}_latent_ode_history", f"{AREA}_latent_ode_seconds"], name="train_latent_ode"),
            Node(nodes.train_rnn, [f"{AREA}_spirals", f"{p}.rnn", "params:trainer"],
                 [f"{AREA}_rnn", f"{AREA}_rnn_history", f"{AREA}_rnn_seconds"], name="train_rnn"),
            Node(nodes.evaluate, [f"{AREA}_model", f"{AREA}_rnn", f"{AREA}_spirals", f"{p}.spirals",
                                  f"{AREA}_latent_ode_seconds", f"{AREA}_rnn_seconds"], f"{AREA}_results", name="evaluate"),
            Node(nodes.spirals_figure, [f"{AREA}_model", f"{AREA}_rnn", f"{AREA}_spirals", f"{p}.spirals"],
                 f"{AREA}_plot_spirals", name="plot_spirals"),
            Node(nodes.curves_figure, [f"{AREA}_latent_ode_history", f"{AREA}_rnn_history"], f"{AREA}_plot_training",
                 name="plot_training"),
            Node(nodes.summary_metrics, f"{AREA}_results", f"{AREA}_metrics", name="summary_metrics"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
