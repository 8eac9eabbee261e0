"""advanced_generative_gans: StyleGAN and BigGAN ideas at small scale on Fashion-MNIST."""

from dl_roadmap.pipelines.advanced_generative_gans.pipeline import create_pipeline

__all__ = ["create_pipeline"]
