"""generative: the VAE (Kingma & Welling) on stochastically binarized MNIST, tuned by the
shared tune stage; its test ELBO and importance-weighted NLL (Burda et al.), the 2-d latent
manifold, interpolations, a beta-VAE sweep (rate against distortion) and a conditional VAE;
every VAE scored by the shared yardstick and logged as an MLflow generator model."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.pipelines.generative import figures, nodes
from dl_roadmap.pipelines.generative.stages import TASK

AREA = "generative"


def create_pipeline(**kwargs) -> Pipeline:
    return (
        Pipeline([Node(nodes.ingest, ["mnist_raw", f"params:{AREA}.data"], f"{AREA}_splits", name="ingest")])
        + tune_pipeline(TASK, area=AREA, data=f"{AREA}_splits", config=f"params:{AREA}.vae",
                        outputs={"model": f"{AREA}_vae", "history": f"{AREA}_vae_history"})
        + area_pipeline()
    )


def area_pipeline() -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.test_bounds, [f"{AREA}_vae", f"{AREA}_splits", f"{p}.iwae"], f"{AREA}_bounds",
                 name="test_bounds"),
            Node(figures.iwae_figure, f"{AREA}_bounds", f"{AREA}_plot_iwae", name="plot_iwae"),
            Node(nodes.interpolations, [f"{AREA}_vae", f"{AREA}_splits", f"{p}.interpolation"],
                 f"{AREA}_interpolations", name="interpolations"),
            Node(figures.interpolation_figure, f"{AREA}_interpolations", f"{AREA}_plot_interpolations",
                 name="plot_interpolations"),
            Node(nodes.latent_2d, [f"{AREA}_splits", f"{p}.latent_2d", "params:trainer"],
                 [f"{AREA}_vae_2d", f"{AREA}_vae_2d_history", f"{AREA}_latent_codes"], name="latent_2d"),
            Node(figures.manifold_figure, f"{AREA}_vae_2d", f"{AREA}_plot_manifold", name="plot_manifold"),
            Node(figures.latent_codes_figure, f"{AREA}_latent_codes", f"{AREA}_plot_latent_codes",
                 name="plot_latent_codes"),
            Node(nodes.beta_sweep, [f"{AREA}_splits", f"{p}.beta_sweep", "params:trainer"],
                 [f"{AREA}_beta_sweep", f"{AREA}_beta_samples"], name="beta_sweep"),
            Node(figures.rate_distortion_figure, f"{AREA}_beta_sweep", f"{AREA}_plot_rate_distortion",
                 name="plot_rate_distortion"),
            Node(figures.beta_samples_figure,
                 f"{AREA}_beta_samples", f"{AREA}_plot_beta_samples", name="plot_beta_samples"),
            Node(nodes.train_cvae, [f"{AREA}_splits", f"{p}.cvae", "params:trainer"],
                 [f"{AREA}_cvae", f"{AREA}_cvae_history"], name="train_cvae"),
            Node(nodes.test_bounds, [f"{AREA}_cvae", f"{AREA}_splits", f"{p}.iwae_conditional"],
                 f"{AREA}_cvae_bounds", name="test_bounds_cvae"),
            Node(nodes.class_samples, [f"{AREA}_cvae", f"{p}.samples_per_class"], f"{AREA}_cvae_samples",
                 name="cvae_samples"),
            Node(figures.cvae_samples_figure,
                 f"{AREA}_cvae_samples", f"{AREA}_plot_cvae_samples", name="plot_cvae_samples"),
            Node(figures.curves_figure, [f"{AREA}_vae_history", f"{AREA}_vae_2d_history", f"{AREA}_cvae_history"],
                 f"{AREA}_plot_training_curves", name="plot_training_curves"),
            Node(nodes.fit_yardstick, [f"{AREA}_splits", "params:yardstick", "params:trainer"], f"{AREA}_yardstick",
                 name="fit_yardstick"),
            Node(nodes.score_generators, [f"{AREA}_yardstick", f"{AREA}_vae", f"{AREA}_cvae", f"{AREA}_vae_2d",
                                          f"{AREA}_bounds", f"{p}.yardstick"], f"{AREA}_yardstick_table",
                 name="score_generators"),
            Node(figures.yardstick_figure, f"{AREA}_yardstick_table", f"{AREA}_plot_yardstick", name="plot_yardstick"),
            Node(nodes.generator_model, f"{AREA}_vae", f"{AREA}_vae_mlflow", name="log_vae"),
            Node(nodes.conditional_generator_model, f"{AREA}_cvae", f"{AREA}_cvae_mlflow", name="log_cvae"),
            Node(nodes.summary_metrics, [f"{AREA}_bounds", f"{AREA}_cvae_bounds", f"{AREA}_beta_sweep",
                                         f"{AREA}_yardstick_table"], f"{AREA}_metrics", name="summary_metrics"),
        ]
    )
