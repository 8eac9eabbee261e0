"""generative_gans: DCGAN (non-saturating loss), WGAN-GP and a conditional GAN on MNIST and
Fashion-MNIST; samples through training (a GIF), loss curves, the shared yardstick per epoch
and at the end, every generator an MLflow model; and mode collapse on a ring of Gaussians,
with and without packing."""

from __future__ import annotations

from typing import Any, Callable

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.generative_gans import figures, nodes

AREA = "generative_gans"
# Each run is one node (and one MLflow model); its settings are under generative_gans.runs.
RUNS = ("dcgan_mnist", "wgan_gp_mnist", "cgan_mnist",
        "dcgan_fashion_mnist", "wgan_gp_fashion_mnist", "cgan_fashion_mnist")


def trainer_of(run: str) -> Callable[..., Any]:
    """``nodes.train_gan`` with its run bound, under a readable name for kedro-viz."""
    def train(data, sticks, params, trainer):
        return nodes.train_gan(data, sticks, params, trainer, run)

    train.__name__ = train.__qualname__ = f"train_{run}"
    return train


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    training = [
        Node(trainer_of(run), [f"{AREA}_splits", f"{AREA}_yardsticks", p, "params:trainer"],
             [f"{AREA}_{run}_generator", f"{AREA}_{run}_history", f"{AREA}_{run}_frames"], name=f"train_{run}")
        for run in RUNS
    ]
    models = [Node(nodes.generator_model, f"{AREA}_{run}_generator", f"{AREA}_{run}_mlflow", name=f"log_{run}")
              for run in RUNS]
    return Pipeline(
        [
            Node(nodes.ingest, ["mnist_raw", "fashion_mnist_raw", f"{p}.data"], f"{AREA}_splits", name="ingest"),
            Node(nodes.fit_yardsticks, [f"{AREA}_splits", "params:yardstick", "params:trainer"], f"{AREA}_yardsticks",
                 name="fit_yardsticks"),
            *training,
            *models,
            Node(nodes.histories_table, {run: f"{AREA}_{run}_history" for run in RUNS}, f"{AREA}_histories",
                 name="histories_table"),
            Node(nodes.training_gif, {"params": p, **{run: f"{AREA}_{run}_frames" for run in RUNS}},
                 f"{AREA}_samples_gif", name="training_gif"),
            Node(nodes.score_generators, {"sticks": f"{AREA}_yardsticks", "params": p,
                                          **{run: f"{AREA}_{run}_generator" for run in RUNS}},
                 f"{AREA}_yardstick_table", name="score_generators"),
            Node(figures.final_samples_figure, {run: f"{AREA}_{run}_frames" for run in RUNS},
                 f"{AREA}_plot_samples", name="plot_samples"),
            Node(figures.losses_figure, f"{AREA}_histories", f"{AREA}_plot_losses", name="plot_losses"),
            Node(figures.yardstick_epochs_figure, f"{AREA}_histories", f"{AREA}_plot_yardstick_per_epoch",
                 name="plot_yardstick_per_epoch"),
            Node(nodes.train_ring_gans, [f"{p}.ring", "params:trainer"], [f"{AREA}_ring_table", f"{AREA}_ring_snapshots"],
                 name="train_ring_gans"),
            Node(figures.collapse_figure, [f"{AREA}_ring_snapshots", f"{p}.ring"], f"{AREA}_plot_mode_collapse",
                 name="plot_mode_collapse"),
            Node(figures.yardstick_figure, f"{AREA}_yardstick_table", f"{AREA}_plot_yardstick", name="plot_yardstick"),
            Node(nodes.summary_metrics, [f"{AREA}_yardstick_table", f"{AREA}_ring_table"], f"{AREA}_metrics",
                 name="summary_metrics"),
        ]
    )
