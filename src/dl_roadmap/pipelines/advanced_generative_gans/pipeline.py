"""advanced_generative_gans: Fashion-MNIST -> a small StyleGAN (mapping network, modulated and
demodulated convs, per-layer noise, style mixing) and a small class-conditional BigGAN
(conditional BN, projection discriminator, spectral norm, hinge loss) -> both on the shared
yardstick along their truncation curves, BigGAN per class, the style-mixing grid, both as MLflow
generator models. Tune, compress and explain are not wired (README, "Stages")."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.advanced_generative_gans import nodes

AREA = "advanced_generative_gans"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    style, big = f"{AREA}_stylegan", f"{AREA}_biggan"
    return Pipeline(
        [
            Node(nodes.ingest, ["fashion_mnist_raw", f"{p}.data"], [f"{AREA}_splits", f"{AREA}_class_names"],
                 name="ingest"),
            Node(nodes.fit_yardstick, [f"{AREA}_splits", "params:yardstick", "params:trainer"], f"{AREA}_yardstick",
                 name="fit_yardstick"),
            Node(nodes.train_stylegan, [f"{AREA}_splits", f"{p}.stylegan", "params:trainer"],
                 [style, f"{AREA}_stylegan_history"], name="train_stylegan"),
            Node(nodes.train_biggan, [f"{AREA}_splits", f"{p}.biggan", "params:trainer"],
                 [big, f"{AREA}_biggan_history"], name="train_biggan"),
            Node(nodes.score_generators, [style, big, f"{AREA}_yardstick", p],
                 [f"{AREA}_yardstick_table", f"{AREA}_stylegan_truncation", f"{AREA}_biggan_truncation"],
                 name="score_generators"),
            Node(nodes.per_class_figures, [big, f"{AREA}_yardstick", f"{AREA}_splits", f"{AREA}_class_names", p],
                 f"{AREA}_biggan_per_class", name="biggan_per_class"),
            Node(nodes.stylegan_mixing_figure, [style, p], f"{AREA}_plot_style_mixing", name="plot_style_mixing"),
            Node(nodes.stylegan_noise_figure, [style, p], f"{AREA}_plot_style_noise", name="plot_style_noise"),
            Node(nodes.biggan_classes_figure, [big, f"{AREA}_class_names", p], f"{AREA}_plot_biggan_classes",
                 name="plot_biggan_classes"),
            Node(nodes.stylegan_truncation_figure, f"{AREA}_stylegan_truncation",
                 f"{AREA}_plot_stylegan_truncation", name="plot_stylegan_truncation"),
            Node(nodes.biggan_truncation_figure, f"{AREA}_biggan_truncation", f"{AREA}_plot_biggan_truncation",
                 name="plot_biggan_truncation"),
            Node(nodes.curves_figure, [f"{AREA}_stylegan_history", f"{AREA}_biggan_history"], f"{AREA}_plot_training",
                 name="plot_training"),
            Node(nodes.yardstick_figure, f"{AREA}_yardstick_table", f"{AREA}_plot_yardstick", name="plot_yardstick"),
            Node(nodes.summary_metrics, [f"{AREA}_stylegan_truncation", f"{AREA}_biggan_truncation",
                                         f"{AREA}_biggan_per_class"], f"{AREA}_metrics", name="summary_metrics"),
            Node(nodes.stylegan_generator, [style, p], f"{AREA}_stylegan_mlflow", name="log_stylegan"),
            Node(nodes.biggan_generator, [big, p], f"{AREA}_biggan_mlflow", name="log_biggan"),
        ]
    )
