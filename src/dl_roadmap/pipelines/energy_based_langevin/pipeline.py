"""energy_based_langevin: a JEM energy model of Fashion-MNIST (a classifier whose logsumexp
is the negative energy) trained with short-run Langevin dynamics, beside the same net as a
plain classifier; Langevin samples and a GIF of a chain; out-of-distribution detection
(MNIST out) with energy and softmax scores; the EBM as a generator on the shared yardstick."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.energy_based_langevin import figures, nodes

AREA = "energy_based_langevin"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.ingest, ["fashion_mnist_raw", "mnist_raw", f"{p}.data"],
                 [f"{AREA}_splits", f"{AREA}_ood_images", f"{AREA}_ingest_summary"], name="ingest"),
            Node(nodes.train_energy_model, [f"{AREA}_splits", f"{p}.train"], [f"{AREA}_model", f"{AREA}_jem_history"],
                 name="train_energy_model"),
            Node(nodes.train_classifier, [f"{AREA}_splits", f"{p}.train"],
                 [f"{AREA}_classifier", f"{AREA}_classifier_history"], name="train_classifier"),
            Node(figures.training_figure, [f"{AREA}_jem_history", f"{AREA}_classifier_history"],
                 f"{AREA}_plot_training", name="plot_training"),
            Node(nodes.detect_ood, [f"{AREA}_model", f"{AREA}_classifier", f"{AREA}_splits", f"{AREA}_ood_images",
                                    f"{p}.ood"], [f"{AREA}_ood_detection", f"{AREA}_ood_scores"], name="detect_ood"),
            Node(figures.histogram_figure, [f"{AREA}_ood_scores", f"{AREA}_ood_detection"],
                 f"{AREA}_plot_ood_histograms", name="plot_ood_histograms"),
            Node(nodes.langevin_chain, [f"{AREA}_model", f"{p}.chain"], [f"{AREA}_chain", f"{AREA}_chain_gif"],
                 name="langevin_chain"),
            Node(figures.samples_figure, f"{AREA}_chain", f"{AREA}_plot_samples", name="plot_samples"),
            Node(nodes.langevin_generator, [f"{AREA}_model", f"{p}.generator"], f"{AREA}_generator",
                 name="langevin_generator"),
            Node(nodes.yardstick_scores, [f"{AREA}_splits", f"{AREA}_generator", f"{p}.generator", "params:yardstick",
                                          "params:trainer"], f"{AREA}_yardstick", name="yardstick"),
            Node(figures.yardstick_figure, f"{AREA}_yardstick", f"{AREA}_plot_yardstick", name="plot_yardstick"),
            Node(nodes.log_generator, f"{AREA}_generator", f"{AREA}_generator_mlflow", name="log_generator"),
            Node(nodes.summary_metrics, [f"{AREA}_ood_detection", f"{AREA}_yardstick"], f"{AREA}_metrics",
                 name="summary_metrics"),
        ]
    )
