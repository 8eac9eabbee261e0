"""generative_gans: DCGAN (non-saturating loss), WGAN-GP and a conditional GAN on MNIST and
Fashion-MNIST, scored by the shared yardstick per epoch, and mode collapse shown and fixed."""

from dl_roadmap.pipelines.generative_gans.pipeline import create_pipeline

__all__ = ["create_pipeline"]
