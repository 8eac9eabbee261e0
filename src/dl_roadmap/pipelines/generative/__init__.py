"""generative: the VAE (Kingma & Welling), its importance-weighted NLL (Burda et al.), the 2-d
latent manifold, interpolations, a beta-VAE sweep and a conditional VAE on binarized MNIST."""

from dl_roadmap.pipelines.generative.pipeline import create_pipeline

__all__ = ["create_pipeline"]
